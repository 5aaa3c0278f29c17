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

/** Bounds of the `reviews(first)` lists and `reviewsConnection(first)` pages on User and Product. */
export const REVIEW_LIST = { defaultSize: 20, maxSize: 100 } as const;

/** Prefix of the cursors of `reviewsConnection`: a (createdAt, id) position, newest first. */
export const REVIEW_CURSOR = 'review';
