import { useSyncExternalStore } from 'react';

/**
 * Routes live in the URL's hash (#/product/7), so the build is plain static files that any host
 * (or the router at /shop/) serves without rewriting paths.
 */
export type Route =
  | { page: 'catalogue' }
  | { page: 'product'; id: string }
  | { page: 'sign-in'; then: string | null }
  | { page: 'orders' }
  | { page: 'not-found' };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  if (path === '/') return { page: 'catalogue' };
  const product = /^\/product\/([1-9]\d{0,9})$/.exec(path);
  if (product?.[1]) return { page: 'product', id: product[1] };
  const signIn = /^\/sign-in(?:\?then=(.*))?$/.exec(path);
  if (signIn) return { page: 'sign-in', then: signIn[1] ? decodeURIComponent(signIn[1]) : null };
  if (path === '/orders') return { page: 'orders' };
  return { page: 'not-found' };
}

export const href = {
  catalogue: () => '#/',
  product: (id: string) => `#/product/${id}`,
  signIn: (then?: string) => (then ? `#/sign-in?then=${encodeURIComponent(then)}` : '#/sign-in'),
  orders: () => '#/orders',
};

const subscribe = (onChange: () => void) => {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
};

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parseRoute(hash);
}

export function navigate(to: string): void {
  window.location.hash = to.replace(/^#/, '');
}
