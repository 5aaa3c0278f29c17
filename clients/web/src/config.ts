/**
 * Where the storefront sends its operations. VITE_GRAPHQL_URL (at `vite` / `vite build` time)
 * wins; otherwise the development server talks to the router `npm start` runs, and a production
 * build to /graphql on its own origin (the router serving it at /shop/, or a proxy in front of a
 * static host).
 */
const configured = import.meta.env.VITE_GRAPHQL_URL as string | undefined;

export const GRAPHQL_URL = configured || (import.meta.env.DEV ? 'http://localhost:4000/graphql' : new URL('/graphql', window.location.origin).href);

/** Seeded users sign in with this password in development (README, "Signing in"). */
export const DEVELOPMENT_PASSWORD = 'commerce-dev';
