import { deleteInBatches, type BatchLimits } from '@commerce/service-kit';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { hashRefreshToken, newRefreshToken } from './tokens.ts';

/**
 * Sessions and their refresh tokens. A session is one sign-in; each refresh token works once and is
 * exchanged for the next one in the same session (rotation). The database keeps only SHA-256
 * hashes of tokens. A token presented a second time means two parties hold it (the client and a
 * thief, in some order), and since nobody can tell which is which, the whole session ends.
 */
export interface SessionSettings {
  refreshTokenTtlSeconds: number;
  /** A session's absolute lifetime from sign-in: refreshing never carries it further. */
  sessionMaxAgeSeconds: number;
  now: () => Date;
}

/** Opens a session for a user who just proved who they are; returns its first refresh token. */
export async function startSession(db: PrismaClient, userId: number, settings: SessionSettings): Promise<string> {
  const { token, hash } = newRefreshToken();
  const now = settings.now();
  await db.session.create({
    data: {
      userId,
      createdAt: now,
      refreshTokens: { create: { tokenHash: hash, createdAt: now, expiresAt: expiry(now, now, settings) } },
    },
  });
  return token;
}

export type Rotation =
  | { ok: true; userId: number; sessionId: string; refreshToken: string }
  /** `revoked` names the session ended because the token had been used before. */
  | { ok: false; revoked: { sessionId: string; userId: number } | null };

/**
 * Exchanges a refresh token for the next one of its session. The presented token is marked used by
 * one conditional UPDATE (unused, unexpired, session open), so of two concurrent exchanges exactly
 * one wins; the loser then finds the token used and ends the session like any other reuse.
 */
export async function rotateRefreshToken(db: PrismaClient, presented: string, settings: SessionSettings): Promise<Rotation> {
  const hash = hashRefreshToken(presented);
  if (!hash) return { ok: false, revoked: null };
  const now = settings.now();
  const next = newRefreshToken();
  const rotated = await db.$transaction(async (tx) => {
    // `now` goes in as a Date, serialised exactly as Prisma wrote expires_at (a wall-clock time the
    // server reads in its session TimeZone), so the comparison holds in any server zone; an ISO
    // string or now() would be hours off outside UTC (postgres.test.ts runs the server at UTC+14).
    const rows = await tx.$queryRaw<{ session_id: string; user_id: number; started_at: Date }[]>`
      UPDATE refresh_tokens AS t SET used_at = ${now}
      FROM sessions AS s
      WHERE t.token_hash = ${hash} AND t.used_at IS NULL AND t.expires_at > ${now}
        AND s.id = t.session_id AND s.revoked_at IS NULL AND s.created_at > ${new Date(now.getTime() - settings.sessionMaxAgeSeconds * 1000)}
      RETURNING s.id::text AS session_id, s.user_id, s.created_at AS started_at`;
    const row = rows[0];
    if (!row) return null;
    await tx.refreshToken.create({ data: { tokenHash: next.hash, sessionId: row.session_id, createdAt: now, expiresAt: expiry(now, row.started_at, settings) } });
    return row;
  });
  if (rotated) return { ok: true, userId: rotated.user_id, sessionId: rotated.session_id, refreshToken: next.token };

  // Not exchangeable: unknown, expired, in a closed session or one past its maximum age, or used
  // before. Only the last one
  // (in a session still open) is a reuse, and it ends the session.
  const reused = await db.refreshToken.findUnique({
    where: { tokenHash: hash },
    select: { usedAt: true, session: { select: { id: true, userId: true, revokedAt: true } } },
  });
  if (!reused?.usedAt || reused.session.revokedAt) return { ok: false, revoked: null };
  const { count } = await db.session.updateMany({
    where: { id: reused.session.id, revokedAt: null },
    data: { revokedAt: now, revokedReason: 'reuse_detected' },
  });
  return { ok: false, revoked: count === 1 ? { sessionId: reused.session.id, userId: reused.session.userId } : null };
}

/**
 * Ends the session a refresh token belongs to (any of its tokens, used or not: ending a session is
 * always safe). True when it was open; false when it was already closed or the token is unknown.
 */
export async function endSession(db: PrismaClient, presented: string, settings: SessionSettings): Promise<boolean> {
  const hash = hashRefreshToken(presented);
  if (!hash) return false;
  const { count } = await db.session.updateMany({
    where: { revokedAt: null, refreshTokens: { some: { tokenHash: hash } } },
    data: { revokedAt: settings.now(), revokedReason: 'sign_out' },
  });
  return count === 1;
}

/**
 * How long a refresh token is kept after it expired, and an ended session after it ended: 30 days.
 * Until then a used token presented again still ends its session (reuse means it was copied);
 * after, it is unknown, like any token that was never issued. A session none of whose tokens is
 * left can sign no one in and goes too.
 */
export const SESSION_RETAIN_MS = 30 * 86_400_000;

/**
 * Forgets what can no longer sign anyone in (see `SESSION_RETAIN_MS`), in batches claimed with SKIP
 * LOCKED, so every replica may run it at once and no statement holds locks for long. Returns how
 * many tokens and sessions it deleted (the tokens an ended session still had go with it, uncounted).
 */
export async function pruneSessions(
  db: PrismaClient,
  settings: Pick<SessionSettings, 'now'>,
  { retainMs = SESSION_RETAIN_MS, ...limits }: { retainMs?: number } & BatchLimits = {},
): Promise<number> {
  // A Date parameter, as rotateRefreshToken explains, so the comparison holds in any server zone.
  const cutoff = new Date(settings.now().getTime() - retainMs);
  const tokens = await deleteInBatches(
    (batchSize) => db.$executeRaw`
      DELETE FROM refresh_tokens WHERE token_hash IN (
        SELECT token_hash FROM refresh_tokens WHERE expires_at < ${cutoff} LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)`,
    limits,
  );
  const sessions = await deleteInBatches(
    (batchSize) => db.$executeRaw`
      DELETE FROM sessions WHERE id IN (
        SELECT s.id FROM sessions s
         WHERE s.created_at < ${cutoff}
           AND (s.revoked_at < ${cutoff} OR NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.session_id = s.id))
         LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)`,
    limits,
  );
  return tokens + sessions;
}

/** A new refresh token's expiry: its own lifetime, but never past its session's end. */
function expiry(now: Date, sessionStartedAt: Date, settings: SessionSettings): Date {
  return new Date(Math.min(now.getTime() + settings.refreshTokenTtlSeconds * 1000, sessionStartedAt.getTime() + settings.sessionMaxAgeSeconds * 1000));
}
