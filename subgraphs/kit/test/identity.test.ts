// Who is calling, as the router writes it into headers and a subgraph reads it back (identity.ts).
import { describe, expect, it } from 'vitest';
import { ANONYMOUS, hasAnyScope, IDENTITY_HEADERS, identityHeaders, requestInfoFromHeaders, viewer } from '../src/index.ts';
import { SIGNED_IDENTITY_HEADERS } from '../src/identity.ts';

describe('identity headers', () => {
  it('are four, all covered by the signature', () => {
    expect(IDENTITY_HEADERS).toEqual({ userId: 'x-commerce-user-id', scopes: 'x-commerce-scopes', clientIp: 'x-commerce-client-ip', requestId: 'x-request-id' });
    expect(SIGNED_IDENTITY_HEADERS).toEqual(['x-commerce-user-id', 'x-commerce-scopes', 'x-commerce-client-ip', 'x-request-id']);
  });

  it('are written for a user with scopes, and empty for nobody', () => {
    expect(identityHeaders({ viewer: viewer(42, ['admin', 'orders:read']), requestId: 'r-1', clientIp: '203.0.113.9' })).toEqual({
      'x-commerce-user-id': '42',
      'x-commerce-scopes': 'admin orders:read',
      'x-commerce-client-ip': '203.0.113.9',
      'x-request-id': 'r-1',
    });
    expect(identityHeaders({ viewer: ANONYMOUS, requestId: 'r-2', clientIp: null })).toEqual({
      'x-commerce-user-id': '',
      'x-commerce-scopes': '',
      'x-commerce-client-ip': '',
      'x-request-id': 'r-2',
    });
  });

  it('round-trip: what the router writes, a subgraph reads', () => {
    const info = { viewer: viewer(7, ['admin']), requestId: 'r-3', clientIp: '10.0.0.1' };
    expect(requestInfoFromHeaders(identityHeaders(info), 'fallback')).toEqual(info);
    expect(requestInfoFromHeaders(identityHeaders({ viewer: ANONYMOUS, requestId: 'r-4', clientIp: null }), 'fallback')).toEqual({ viewer: ANONYMOUS, requestId: 'r-4', clientIp: null });
  });
});

describe('requestInfoFromHeaders', () => {
  it.each([
    ['1', 1],
    ['2147483647', 2147483647],
    ['9999999999', 9999999999],
    ['0', null],
    ['01', null],
    ['12345678901', null],
    ['-1', null],
    ['1.5', null],
    [' 7', null],
    ['', null],
  ])('reads user id %j as %j', (header, userId) => {
    expect(requestInfoFromHeaders({ 'x-commerce-user-id': header, 'x-commerce-scopes': 's' }, 'f').viewer.userId).toBe(userId);
  });

  it('keeps scope tokens of 1 to 64 RFC 6749 characters, and drops the rest', () => {
    const scopes = ['a', 'x'.repeat(64), 'orders:read', '!#[]~'];
    const bad = ['x'.repeat(65), 'quo"te', 'back\\slash', 'caf\u00e9', 'tab\tbed'];
    const info = requestInfoFromHeaders({ 'x-commerce-user-id': '3', 'x-commerce-scopes': [...scopes, ...bad, ''].join(' ') }, 'f');
    expect([...info.viewer.scopes]).toEqual(scopes);
  });

  it('takes the first of repeated headers, a fallback request id, and no address when none is given', () => {
    const info = requestInfoFromHeaders({ 'x-commerce-user-id': ['5', '6'], 'x-commerce-scopes': ['admin', 'root'], 'x-request-id': ['', 'second'] }, 'fallback');
    expect(info).toEqual({ viewer: viewer(5, ['admin']), requestId: 'fallback', clientIp: null });
  });

  it('is ANONYMOUS itself (one shared, frozen value) when there is neither a user nor a scope', () => {
    const info = requestInfoFromHeaders({ 'x-commerce-user-id': 'nope', 'x-commerce-scopes': '"bad"' }, 'f');
    expect(info.viewer).toBe(ANONYMOUS);
    expect(Object.isFrozen(ANONYMOUS)).toBe(true);
    expect(ANONYMOUS).toEqual({ userId: null, scopes: new Set() });
    // A scope alone is a caller (a service token), not anonymous; so is a user without scopes.
    expect(requestInfoFromHeaders({ 'x-commerce-scopes': 'admin' }, 'f').viewer).toEqual(viewer(null, ['admin']));
    expect(requestInfoFromHeaders({ 'x-commerce-user-id': '7' }, 'f').viewer).toEqual(viewer(7, []));
  });
});

describe('hasAnyScope', () => {
  it('is true when the caller holds one of the scopes, false for none or an empty list', () => {
    const who = viewer(1, ['admin', 'staff']);
    expect(hasAnyScope(who, ['auditor', 'staff'])).toBe(true);
    expect(hasAnyScope(who, ['auditor'])).toBe(false);
    expect(hasAnyScope(who, [])).toBe(false);
    expect(hasAnyScope(ANONYMOUS, ['admin'])).toBe(false);
  });

  it('viewer() copies its scopes into a set', () => {
    const scopes = ['a', 'a', 'b'];
    const who = viewer(2, scopes);
    scopes.push('c');
    expect(who).toEqual({ userId: 2, scopes: new Set(['a', 'b']) });
    expect(viewer(null)).toEqual({ userId: null, scopes: new Set() });
  });
});
