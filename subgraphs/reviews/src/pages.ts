import { encodeKeysetCursor, parseKeysetPage, toConnection, type DataLoader, type KeysetKey, type PageArgs } from '@commerce/service-kit';
import type { Review } from './generated/prisma/client.ts';
import { REVIEW_CURSOR, REVIEW_LIST } from './models.ts';

/** A page of `reviewsConnection` (User's or Product's): one more row than the page tells whether another follows. */
export async function reviewPage(loader: DataLoader<KeysetKey, Review[], string>, key: number, args: PageArgs) {
  const page = parseKeysetPage(args, REVIEW_LIST, REVIEW_CURSOR);
  const rows = await loader.load({ key, limit: page.take + 1, after: page.after });
  return toConnection(rows, page, (review) => encodeKeysetCursor(REVIEW_CURSOR, review));
}
