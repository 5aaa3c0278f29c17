// What one benchmark run shares with the processes it starts, made fresh for every run and kept
// only in memory and in the children's environments: a signing secret per subgraph, accounts'
// Ed25519 token key, the events secrets (mixed scenario), and the admin access token every
// benchmark request carries.
import { randomBytes } from 'node:crypto';
import { generatePrivateKey, issueAccessToken, publicJwkOf, testAccountsConfig } from '@commerce/subgraph-accounts';
import { ADMIN } from './gateway-glue.ts';
import { SERVICE_NAMES, signingSecretVariable, type ServiceName } from './services.ts';

export interface RunIdentity {
  /**
   * A subgraph's own variables: its `<NAME>_SIGNING_SECRET`; accounts also gets its token key as
   * `ACCOUNTS_JWT_PRIVATE_KEY` (PEM) and builds its configuration from it, as it does when deployed.
   */
  subgraphEnv(service: ServiceName): Record<string, string>;
  /** Every subgraph's `<NAME>_SIGNING_SECRET`: what any gateway in front of all five needs. */
  gatewayEnv(): Record<string, string>;
  /** What every benchmark request carries, on every system: `Authorization: Bearer <admin token>`. */
  clientHeaders: Readonly<Record<string, string>>;
  /**
   * The events secrets, as `npm start` makes them (mixed scenario only): every subgraph's
   * `<NAME>_EVENTS_SECRET` (each verifies what is pushed to it; publishers sign with the
   * subscriber's) and `ROUTER_EVENTS_SECRET` (the router verifies what publishers push to it).
   */
  eventsEnv(): Record<string, string>;
}

/**
 * The run's secrets, and an access token for user 1 with the `admin` scope, issued with
 * accounts' own `issueAccessToken`, its default issuer and audience (the router's defaults
 * too), and the key accounts is given, so the router verifies it against accounts' JWKS.
 */
export async function createRunIdentity(options: { tokenLifetimeSeconds: number }): Promise<RunIdentity> {
  const secrets = Object.fromEntries(SERVICE_NAMES.map((service) => [signingSecretVariable(service), randomBytes(32).toString('base64url')]));
  const eventsSecrets = Object.fromEntries(
    [...SERVICE_NAMES.map((service) => `${service.toUpperCase()}_EVENTS_SECRET`), 'ROUTER_EVENTS_SECRET'].map((name) => [name, randomBytes(32).toString('base64url')]),
  );
  const key = generatePrivateKey();
  const kid = (await publicJwkOf(key)).kid!;
  const accountsKey = {
    ACCOUNTS_JWT_PRIVATE_KEY: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    // Accounts' default key id (the key's thumbprint), set so a stray variable cannot change it.
    ACCOUNTS_JWT_KEY_ID: kid,
  };
  const { issuer, audience, accessTokenTtlSeconds } = await testAccountsConfig();
  const settings = { issuer, audience, accessTokenTtlSeconds, kid, privateKey: key.toCryptoKey('Ed25519', false, ['sign']) };
  const { token } = await issueAccessToken(settings, { userId: ADMIN.userId, scopes: ADMIN.scopes }, { expiresInSeconds: options.tokenLifetimeSeconds });
  return {
    subgraphEnv: (service) => ({
      [signingSecretVariable(service)]: secrets[signingSecretVariable(service)]!,
      ...(service === 'accounts' ? accountsKey : {}),
    }),
    gatewayEnv: () => ({ ...secrets }),
    clientHeaders: Object.freeze({ authorization: `Bearer ${token}` }),
    eventsEnv: () => ({ ...eventsSecrets }),
  };
}
