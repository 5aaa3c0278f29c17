import type { Cost } from './check.ts';
import type { DataShape, SizeName } from './data.ts';
import type { OperationName } from './operations.ts';
import { SYSTEM_LABELS, type SystemName } from './systems.ts';

export interface RoundResult {
  round: number;
  rps: number;
  requests: number;
  p50: number;
  p95: number;
  p99: number;
  maxRssMb: number;
  maxSubgraphsRssMb: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  errorBodies: number;
  badSamples: number;
  /** Subgraph requests and SQL statements per operation, averaged over the whole run. */
  subgraphRequestsPerOp: number;
  sqlPerOp: number;
  /** CPU ms per request by component (see LoadResult.cpu). */
  cpu: { system: number; subgraphs: number; postgres: number; loadGenerator: number; rest: number; machineBusy: number };
}

export interface Cell {
  size: SizeName;
  operation: OperationName;
  system: SystemName;
  rounds: RoundResult[];
  medianRps: number;
  /** Percentiles of every request of every round together, in ms. */
  p50: number;
  p95: number;
  p99: number;
  maxRssMb: number;
  maxSubgraphsRssMb: number;
  /** One request, counted before timing. */
  cost: Cost | null;
  /** CPU ms per request by component, median over the rounds. */
  cpu: RoundResult['cpu'] | null;
  failures: number;
  firstBadBody: string | null;
  /** This system's median RPS over this supergraph's (router = 1). */
  rpsVsRouter: number | null;
  p99VsRouter: number | null;
  /** Mixed scenario only: the background writes during the measured rounds and what the cache did. */
  mixed?: MixedCell;
}

/** What the mixed scenario adds to a cell, over every measured round together. */
export interface MixedCell {
  writes: { sent: number; ok: number; failed: number; skipped: number; maxInFlight: number; firstError: string | null; byKind: Record<string, number> };
  /** Mutation answered → first read answer with the new value, ms (every write read back). */
  staleness: { count: number; p50: number; p99: number; max: number };
  /** Mutation answered → sending of the first read that came back fresh, ms (0 when the first read did). */
  staleWindow: { p99: number; max: number };
  /** Reads after a write was answered that still returned the old value; writes never read back within the bound. */
  staleReads: number;
  neverFresh: number;
  /** Slowest probe that came back stale, ms (the resolution of staleWindow). */
  maxStaleProbeMs: number;
  /** router-cached: lookups over the measured rounds (from /metrics deltas); null for systems without a cache. */
  cache: {
    hitRate: number;
    hits: number;
    /** Misses; `stale` of them found an entry an event had made stale. */
    misses: number;
    stale: number;
    /** The in-memory store: entries dropped to make room during the measured runs, and the most held (and their estimated MB) at the end of one. */
    evictions: number;
    entries: number;
    megabytes: number;
    byType: Record<string, { hits: number; misses: number; stale: number; hitRate: number }>;
    invalidations: number;
    storeErrors: number;
  } | null;
  /** router-cached: the publishers' deliveries of events to the router during its measured rounds (ms). */
  eventDelivery: { count: number; p50: number; p99: number; max: number; pending: number } | null;
  /**
   * router-cached: each write matched to its own event's delivery to the router. afterDelivery:
   * writes whose last stale read was sent after that delivery (beyond the bound); maxExcessMs: the
   * largest (last stale read sent − delivered), negative when all came before.
   */
  staleVsDelivery: { writesWithStaleReads: number; afterDelivery: number; unmatched: number; maxExcessMs: number | null; maxWriteDeliveryMs: number } | null;
  /** Per-round req/s (also in rounds), kept for the table. */
  readRps: number[];
}

export interface Target {
  name: string;
  goal: string;
  met: boolean | null;
  detail: string;
}

export interface BenchResult {
  runId: string;
  startedAt: string;
  finishedAt: string;
  complete: boolean;
  machine: Record<string, unknown>;
  options: Record<string, unknown>;
  shapes: Partial<Record<SizeName, DataShape>>;
  cells: Cell[];
  /** VmHWM (peak RSS over the process's life) of each system's process per data size, MB. */
  peakMemory: { size: SizeName; system: SystemName; vmHwmMb: number }[];
  targets: Target[];
  notes: string[];
}

const fmt = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);

export function evaluateTargets(cells: readonly Cell[], peakMemory: BenchResult['peakMemory']): Target[] {
  const find = (size: SizeName, operation: OperationName, system: SystemName) =>
    cells.find((c) => c.size === size && c.operation === operation && c.system === system);
  const routerCells = cells.filter((c) => c.system === 'router');
  const ratioTarget = (name: string, goal: string, other: SystemName, test: (ratio: number) => boolean): Target => {
    const parts: string[] = [];
    let met: boolean | null = null;
    for (const cell of routerCells) {
      const theirs = find(cell.size, cell.operation, other);
      if (!theirs || !theirs.medianRps) continue;
      const ratio = cell.medianRps / theirs.medianRps;
      met = (met ?? true) && test(ratio);
      parts.push(`${cell.size}/${cell.operation} ${ratio.toFixed(2)}×`);
    }
    return { name, goal, met, detail: parts.join(', ') || 'not measured' };
  };
  const targets = [
    ratioTarget('router vs stock @apollo/gateway', 'router RPS ≥ 2× stock gateway RPS, every operation', 'apollo-gateway', (r) => r >= 2),
    ratioTarget('router vs Hive Gateway', 'router RPS > Hive Gateway RPS, every operation', 'hive-gateway', (r) => r > 1),
    ratioTarget('supergraph vs monolith', 'router RPS ≥ 0.5× monolith RPS, every operation', 'monolith', (r) => r >= 0.5),
  ];
  const scaleParts: string[] = [];
  let scaleMet: boolean | null = null;
  for (const large of routerCells.filter((c) => c.size === 'large')) {
    const seed = find('seed', large.operation, 'router');
    if (!seed) continue;
    const ratio = large.p99 / seed.p99;
    scaleMet = (scaleMet ?? true) && ratio <= 1.5;
    scaleParts.push(`${large.operation} ${fmt(seed.p99)} → ${fmt(large.p99)} ms (${ratio.toFixed(2)}×)`);
  }
  targets.push({ name: 'p99 at scale', goal: 'router p99 at large scale ≤ 1.5× p99 at seed size', met: scaleMet, detail: scaleParts.join(', ') || 'not measured' });
  const rss = Math.max(0, ...routerCells.map((c) => c.maxRssMb));
  const hwm = Math.max(0, ...peakMemory.filter((m) => m.system === 'router').map((m) => m.vmHwmMb));
  targets.push({
    name: 'router memory',
    goal: 'router RSS under load ≤ 300 MB',
    met: routerCells.length ? Math.max(rss, hwm) <= 300 : null,
    detail: routerCells.length ? `max VmRSS under load ${fmt(rss, 0)} MB, VmHWM ${fmt(hwm, 0)} MB` : 'not measured',
  });
  return targets;
}

/** The compact table printed at the end (and pasted into the README section). */
export function table(result: BenchResult): string {
  const lines: string[] = [];
  const header = `| size | operation | system | median RPS | × router | p50 ms | p95 ms | p99 ms | max RSS MB | subgraph req/op | SQL/op |`;
  lines.push(header, header.replace(/[^|]+/g, (cell) => '-'.repeat(Math.max(3, cell.length))));
  for (const cell of result.cells) {
    lines.push(
      `| ${cell.size} | ${cell.operation} | ${cell.system} | ${fmt(cell.medianRps, 0)} | ${fmt(cell.rpsVsRouter, 2)} | ${fmt(cell.p50)} | ${fmt(cell.p95)} | ${fmt(cell.p99)} | ` +
        `${fmt(cell.maxRssMb, 0)} | ${fmt(cell.cost?.subgraphRequests, 0)} | ${fmt(cell.cost?.sqlStatements, 0)} |`,
    );
  }
  lines.push(
    '',
    'CPU per request (ms; "rest" is everything else on the machine, e.g. other users\' processes):',
    '',
    '| size | operation | system | gateway/server | subgraphs | PostgreSQL | load generator | rest | machine busy |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const cell of result.cells) {
    if (!cell.cpu) continue;
    lines.push(
      `| ${cell.size} | ${cell.operation} | ${cell.system} | ${fmt(cell.cpu.system, 2)} | ${fmt(cell.cpu.subgraphs, 2)} | ${fmt(cell.cpu.postgres, 2)} | ` +
        `${fmt(cell.cpu.loadGenerator, 2)} | ${fmt(cell.cpu.rest, 2)} | ${fmt(cell.cpu.machineBusy * 100, 0)}% |`,
    );
  }
  lines.push('', '| target | goal | met | measured |', '|---|---|---|---|');
  for (const target of result.targets) {
    lines.push(`| ${target.name} | ${target.goal} | ${target.met === null ? 'n/a' : target.met ? 'yes' : 'no'} | ${target.detail} |`);
  }
  return lines.join('\n');
}

const COLORS: Record<SystemName, string> = {
  'router-cached': '#553c9a',
  router: '#2b6cb0',
  'apollo-gateway': '#9b2c2c',
  'hive-gateway': '#b7791f',
  monolith: '#2f855a',
};

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Grouped bars of median RPS per operation and system, one panel per data size, p99 over each bar. */
export function chart(result: BenchResult): string {
  const sizes = [...new Set(result.cells.map((c) => c.size))];
  const operations = [...new Set(result.cells.map((c) => c.operation))];
  const systems = [...new Set(result.cells.map((c) => c.system))];
  const width = 1040;
  const panelHeight = 300;
  const top = 70;
  const left = 70;
  const plotWidth = width - left - 30;
  const plotHeight = panelHeight - 90;
  const height = top + sizes.length * panelHeight + 20;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${left}" y="24" font-size="16" font-weight="bold">Median requests/s per operation (higher is better); p99 latency in ms above each bar</text>`,
    `<text x="${left}" y="42" fill="#555">${escape(String(result.machine.summary ?? ''))}</text>`,
  );
  systems.forEach((system, i) => {
    const x = left + i * 240;
    out.push(`<rect x="${x}" y="50" width="12" height="12" fill="${COLORS[system]}"/>`, `<text x="${x + 18}" y="60">${escape(SYSTEM_LABELS[system])}</text>`);
  });
  sizes.forEach((size, panel) => {
    const y0 = top + panel * panelHeight + 20;
    const cells = result.cells.filter((c) => c.size === size);
    const max = Math.max(1, ...cells.map((c) => c.medianRps));
    const scaleMax = niceCeiling(max);
    const shape = result.shapes[size];
    const title = shape
      ? `${size}: ${shape.products.toLocaleString('en')} products, ${shape.reviews.toLocaleString('en')} reviews, ${shape.users.toLocaleString('en')} users, ${shape.orders.toLocaleString('en')} orders`
      : size;
    out.push(`<text x="${left}" y="${y0}" font-weight="bold">${escape(title)}</text>`);
    const base = y0 + 20 + plotHeight;
    for (let t = 0; t <= 4; t++) {
      const value = (scaleMax * t) / 4;
      const y = base - (plotHeight * t) / 4;
      out.push(
        `<line x1="${left}" x2="${left + plotWidth}" y1="${y}" y2="${y}" stroke="#e2e2e2"/>`,
        `<text x="${left - 6}" y="${y + 4}" text-anchor="end" fill="#555">${Math.round(value)}</text>`,
      );
    }
    const groupWidth = plotWidth / operations.length;
    const barWidth = Math.min(48, (groupWidth - 30) / systems.length);
    operations.forEach((operation, g) => {
      const gx = left + g * groupWidth + (groupWidth - barWidth * systems.length) / 2;
      systems.forEach((system, b) => {
        const cell = cells.find((c) => c.operation === operation && c.system === system);
        if (!cell) return;
        const h = (cell.medianRps / scaleMax) * plotHeight;
        const x = gx + b * barWidth;
        out.push(
          `<rect x="${x + 2}" y="${base - h}" width="${barWidth - 4}" height="${h}" fill="${COLORS[system]}"><title>${escape(
            `${SYSTEM_LABELS[system]} · ${operation} · ${size}: ${fmt(cell.medianRps, 0)} req/s, p50 ${fmt(cell.p50)} ms, p95 ${fmt(cell.p95)} ms, p99 ${fmt(cell.p99)} ms`,
          )}</title></rect>`,
          `<text x="${x + barWidth / 2}" y="${base - h - 16}" text-anchor="middle" font-size="10" fill="#222">${fmt(cell.medianRps, 0)}</text>`,
          `<text x="${x + barWidth / 2}" y="${base - h - 5}" text-anchor="middle" font-size="9" fill="#777">${fmt(cell.p99, 0)}ms</text>`,
        );
      });
      out.push(`<text x="${left + g * groupWidth + groupWidth / 2}" y="${base + 16}" text-anchor="middle">${escape(operation)}</text>`);
    });
    out.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${base}" y2="${base}" stroke="#333"/>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

function niceCeiling(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (step * magnitude >= value * 1.12) return step * magnitude;
  }
  return 10 * magnitude;
}

// --- Mixed scenario ------------------------------------------------------------------------------

const MIXED_READS = ['deep-read', 'user-read'] as const;

/** router-cached's median RPS over another system's, per read operation. */
function mixedRatio(cells: readonly Cell[], operation: OperationName, system: SystemName, other: SystemName): number | null {
  const a = cells.find((c) => c.operation === operation && c.system === system);
  const b = cells.find((c) => c.operation === operation && c.system === other);
  return a && b && b.medianRps > 0 ? a.medianRps / b.medianRps : null;
}

/**
 * Issue 11's targets on the mixed scenario: router-cached ≥ 2.0× stock @apollo/gateway and
 * ≥ 1.0× the monolith on deep-read and user-read, with no read staler than one event delivery;
 * the router without the cache ≥ 0.5× the monolith.
 */
export function evaluateMixedTargets(cells: readonly Cell[]): Target[] {
  const ratioTarget = (name: string, goal: string, system: SystemName, other: SystemName, min: number): Target => {
    const parts: string[] = [];
    let met: boolean | null = null;
    for (const operation of MIXED_READS) {
      const ratio = mixedRatio(cells, operation, system, other);
      if (ratio === null) continue;
      met = (met ?? true) && ratio >= min;
      parts.push(`${operation} ${ratio.toFixed(2)}×`);
    }
    return { name, goal, met, detail: parts.join(', ') || 'not measured' };
  };
  const targets = [
    ratioTarget('router-cached vs stock', 'router-cached RPS ≥ 2.0× stock @apollo/gateway, deep-read and user-read', 'router-cached', 'apollo-gateway', 2),
    ratioTarget('router-cached vs monolith', 'router-cached RPS ≥ 1.0× monolith, deep-read and user-read', 'router-cached', 'monolith', 1),
  ];
  const cached = cells.filter((c) => c.system === 'router-cached' && c.mixed);
  if (cached.length > 0) {
    let met = true;
    const parts: string[] = [];
    for (const cell of cached) {
      const m = cell.mixed!;
      const delivery = m.eventDelivery;
      const judged = m.staleVsDelivery;
      const ok =
        m.neverFresh === 0 && m.writes.failed === 0 && delivery !== null && delivery.pending === 0 && judged !== null && judged.afterDelivery === 0 && judged.unmatched === 0;
      met &&= ok;
      parts.push(
        `${cell.operation}: ${judged?.afterDelivery ?? '?'} of ${judged?.writesWithStaleReads ?? '?'} writes read stale after their event reached the router` +
          ` (${judged?.unmatched ?? '?'} not matched to an event; last stale read − delivery at most ${fmt(judged?.maxExcessMs, 0)} ms)` +
          `, stale window max ${fmt(m.staleWindow.max, 0)} ms, the writes' events reached the router within ${fmt(judged?.maxWriteDeliveryMs, 0)} ms` +
          `; ${m.staleReads} stale reads, ${m.neverFresh} never fresh within the 5 s limit, ${m.writes.failed} failed writes` +
          (delivery?.pending ? `, ${delivery.pending} events undelivered` : ''),
      );
    }
    targets.push({
      name: 'router-cached freshness',
      goal: 'no read through router-cached staler than one event delivery: once a write\'s event has been delivered to the router, every read sent after it is fresh',
      met,
      detail: parts.join('; '),
    });
  }
  targets.push(ratioTarget('router (no cache) vs monolith', 'router RPS ≥ 0.5× monolith, deep-read and user-read', 'router', 'monolith', 0.5));
  return targets;
}

/** The mixed scenario's tables (printed at the end, written as markdown beside the JSON). */
export function mixedTable(result: BenchResult): string {
  const lines: string[] = [];
  lines.push(
    '| operation | system | median req/s | p50 / p95 / p99 ms | CPU ms/req (gateway + subgraphs + PostgreSQL) | peak RSS MB | cache hit rate (by type) | staleness p99 / max ms | stale window max ms | writes ok / sent (most in flight) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const cell of result.cells) {
    const m = cell.mixed;
    const cpu = cell.cpu ? `${fmt(cell.cpu.system + cell.cpu.subgraphs + cell.cpu.postgres, 2)} (${fmt(cell.cpu.system, 2)} + ${fmt(cell.cpu.subgraphs, 2)} + ${fmt(cell.cpu.postgres, 2)})` : '–';
    const cache = m?.cache
      ? `${fmt(m.cache.hitRate * 100, 0)} % (${Object.entries(m.cache.byType).map(([type, t]) => `${type} ${fmt(t.hitRate * 100, 0)} %`).join(', ')})`
      : '–';
    lines.push(
      `| ${cell.operation} | ${cell.system} | ${fmt(cell.medianRps, 0)} | ${fmt(cell.p50)} / ${fmt(cell.p95)} / ${fmt(cell.p99)} | ${cpu} | ${fmt(cell.maxRssMb, 0)} | ${cache} | ` +
        `${m ? `${fmt(m.staleness.p99, 0)} / ${fmt(m.staleness.max, 0)}` : '–'} | ${m ? fmt(m.staleWindow.max, 0) : '–'} | ${m ? `${m.writes.ok} / ${m.writes.sent} (${m.writes.maxInFlight})` : '–'} |`,
    );
  }
  lines.push('', '| ratio of median req/s | deep-read | user-read |', '|---|---|---|');
  for (const [a, b] of [['router-cached', 'apollo-gateway'], ['router-cached', 'monolith'], ['router', 'monolith'], ['router-cached', 'router']] as const) {
    lines.push(`| ${a} ÷ ${b} | ${MIXED_READS.map((op) => `${fmt(mixedRatio(result.cells, op, a, b), 2)}×`).join(' | ')} |`);
  }
  const deliveries = result.cells.filter((c) => c.mixed?.eventDelivery);
  if (deliveries.length > 0) {
    lines.push('', 'Events delivered to router-cached during its rounds (occurred → delivered, from the publishers\' outboxes):', '');
    for (const cell of deliveries) {
      const d = cell.mixed!.eventDelivery!;
      const c = cell.mixed!.cache!;
      lines.push(
        `- ${cell.operation}: ${d.count} events, p50 ${fmt(d.p50, 0)} / p99 ${fmt(d.p99, 0)} / max ${fmt(d.max, 0)} ms, ${d.pending} undelivered; ` +
          `${c.invalidations} invalidations, ${c.storeErrors} store errors, ${c.hits} hits / ${c.misses} misses (${c.stale} of them stale), ` +
          `${c.entries} entries held (${fmt(c.megabytes, 0)} MB), ${c.evictions} evicted`,
      );
    }
  }
  lines.push('', '| target | goal | met | measured |', '|---|---|---|---|');
  for (const target of result.targets) {
    lines.push(`| ${target.name} | ${target.goal} | ${target.met === null ? 'n/a' : target.met ? 'yes' : 'no'} | ${target.detail} |`);
  }
  return lines.join('\n');
}
