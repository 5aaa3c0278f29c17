import { ErrorCode, guardWrite, publishEvent, requireEmail, requireText, viewer } from '@commerce/service-kit';
import { GraphQLError } from 'graphql';
import { hashPassword, needsRehash, requirePassword, verifyPassword } from '../auth/passwords.ts';
import { endSession, rotateRefreshToken, startSession } from '../auth/sessions.ts';
import { issueAccessToken } from '../auth/tokens.ts';
import type { Context } from '../context.ts';
import type { MutationResolvers } from '../generated/graphql.ts';
import type { User } from '../generated/prisma/client.ts';

/** Said for every sign-in failure alike: which part was wrong would tell an attacker which emails exist. */
export const INVALID_CREDENTIALS = 'Invalid email or password';
export const INVALID_REFRESH_TOKEN = 'Invalid or expired refresh token; sign in again';

export const Mutation: MutationResolvers = {
  async signUp(_parent, { input }, context) {
    const email = requireEmail(input.email, 'input.email');
    const name = requireText(input.name, 'input.name', { max: 100 });
    const password = requirePassword(input.password, 'input.password');
    const passwordHash = await hashPassword(password);
    // The unique index decides under concurrency; a duplicate becomes a CONFLICT error (and rolls
    // back, so no event is left behind). UserCreated commits with the user: pages of users cached
    // by the router are emptied once it is delivered.
    const user = await guardWrite(() =>
      context.db.$transaction(async (tx) => {
        const created = await tx.user.create({ data: { email, name, passwordHash } });
        await publishEvent(tx, { source: 'accounts', type: 'UserCreated', aggregate: `user:${created.id}`, payload: { userId: created.id } });
        return created;
      }),
    ).catch((error: unknown) => {
      if (error instanceof GraphQLError && error.extensions.code === ErrorCode.CONFLICT) {
        throw new GraphQLError('An account with this email already exists', { extensions: { code: ErrorCode.CONFLICT, field: 'input.email' } });
      }
      throw error;
    });
    return signIn(context, user, await startSession(context.db, user.id, context.auth));
  },

  async signIn(_parent, args, context) {
    const { db, auth } = context;
    const attempt = await auth.throttle.begin(args.email, context.clientIp);
    // Over budget: refused before the password is even looked at, right or wrong.
    if (!attempt.allowed) {
      throw new GraphQLError('Too many failed sign-in attempts; try again later', {
        extensions: { code: ErrorCode.RATE_LIMITED, retryAfterSeconds: attempt.retryAfterSeconds },
      });
    }
    const email = emailOrNull(args.email);
    const user = email === null ? null : await db.user.findUnique({ where: { email } });
    // Always one scrypt run, also for unknown emails and accounts without a password.
    const matches = await verifyPassword(args.password, user?.passwordHash ?? null);
    if (!user?.passwordHash || !matches) throw unauthenticated(INVALID_CREDENTIALS);
    await attempt.succeeded();
    if (needsRehash(user.passwordHash)) {
      // Parameters were raised since this hash was made: store one at the current cost.
      await db.user.update({ where: { id: user.id }, data: { passwordHash: await hashPassword(args.password) } });
    }
    return signIn(context, user, await startSession(db, user.id, auth));
  },

  async refreshSession(_parent, { refreshToken }, context) {
    const rotation = await rotateRefreshToken(context.db, refreshToken, context.auth);
    if (!rotation.ok) {
      if (rotation.revoked) {
        context.auth.logger.warn('a used refresh token was presented again: its session is revoked', {
          sessionId: rotation.revoked.sessionId,
          userId: rotation.revoked.userId,
          clientIp: context.clientIp,
        });
      }
      throw unauthenticated(INVALID_REFRESH_TOKEN);
    }
    const user = await context.loaders.userById.load(rotation.userId);
    if (!user) throw unauthenticated(INVALID_REFRESH_TOKEN);
    return signIn(context, user, rotation.refreshToken);
  },

  async signOut(_parent, { refreshToken }, { db, auth }) {
    return { signedOut: await endSession(db, refreshToken, auth) };
  },
};

/** Admins get the `admin` scope; customers none. Read at every issue, so a role change applies at the next refresh. */
export function scopesOf(user: Pick<User, 'role'>): string[] {
  return user.role === 'admin' ? ['admin'] : [];
}

/** A new access token for `user`, answered with the session's refresh token; the rest of the request acts as `user`. */
async function signIn(context: Context, user: User, refreshToken: string) {
  const scopes = scopesOf(user);
  const access = await issueAccessToken(context.auth, { userId: user.id, scopes });
  context.viewer = viewer(user.id, scopes);
  return { accessToken: access.token, tokenType: 'Bearer', expiresIn: access.expiresIn, refreshToken, user };
}

/** The stored form of a typed email, or null when it cannot be one (it then matches no account). */
function emailOrNull(raw: string): string | null {
  try {
    return requireEmail(raw, 'email');
  } catch {
    return null;
  }
}

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.UNAUTHENTICATED } });
}
