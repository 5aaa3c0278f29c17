/**
 * Parents of the entity stubs this service extends. Reviews knows a user or product only by id
 * (it never reads accounts' or products' databases), so the parent is the parsed id alone.
 */
export interface UserRef {
  id: number;
}

export interface ProductRef {
  id: number;
}

/** Bounds of the `reviews(first)` lists on User and Product. */
export const REVIEW_LIST = { defaultSize: 20, maxSize: 100 } as const;
