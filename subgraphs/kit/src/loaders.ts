import DataLoader from 'dataloader';

/**
 * Batching helpers. Every loader follows one contract: one SQL statement per batch, results in
 * the order of the keys, `null` (or an empty list) for keys that match nothing.
 */

/** Puts rows back in key order; a key with no row gets `null`. */
export function byKeys<Key, Row>(keys: readonly Key[], rows: readonly Row[], keyOf: (row: Row) => Key): (Row | null)[] {
  const index = new Map<Key, Row>();
  for (const row of rows) index.set(keyOf(row), row);
  return keys.map((key) => index.get(key) ?? null);
}

/** Groups rows under their keys, in key order; a key with no rows gets `[]`. */
export function groupByKeys<Key, Row>(keys: readonly Key[], rows: readonly Row[], keyOf: (row: Row) => Key): Row[][] {
  const groups = new Map<Key, Row[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return keys.map((key) => groups.get(key) ?? []);
}

/** A per-request loader: `load` calls made in the same tick are fetched by one `batch` call. */
export function createLoader<Key, Value, CacheKey = Key>(
  batch: (keys: readonly Key[]) => Promise<Value[]>,
  options?: { cacheKey?: (key: Key) => CacheKey; maxBatchSize?: number },
): DataLoader<Key, Value, CacheKey> {
  return new DataLoader<Key, Value, CacheKey>(batch, {
    ...(options?.cacheKey ? { cacheKeyFn: options.cacheKey } : {}),
    maxBatchSize: options?.maxBatchSize ?? 1_000,
  });
}

export type { default as DataLoader } from 'dataloader';
