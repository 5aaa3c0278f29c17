import { CombinedGraphQLErrors } from '@apollo/client/errors';
import { useMutation, useQuery } from '@apollo/client/react';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Failure } from '../Failure.tsx';
import { formatCents } from '../format.ts';
import { OrderStatusDocument, PlaceOrderDocument } from '../generated/graphql/graphql.ts';
import { href } from '../navigation.ts';
import { useSession } from '../session.ts';

/** How often, and how long at most, an order is watched while inventory decides. */
export const WATCH_EVERY_MS = 300;
export const WATCH_AT_MOST_MS = 30_000;

/** A fresh key per attempt: a retry of the same attempt (a lost answer) reuses it and never orders twice. */
function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function PlaceOrderForm({ productId, stock }: { productId: string; stock: number | null }) {
  const current = useSession();
  const [quantity, setQuantity] = useState(1);
  const attempt = useRef<string | null>(null);
  const [placeOrder, { data, error, loading, reset }] = useMutation(PlaceOrderDocument);
  const placed = data?.placeOrder.order;

  if (!current) {
    return (
      <p>
        <a href={href.signIn(href.product(productId))}>Sign in</a> to order.
      </p>
    );
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    // A new attempt unless the last one got no answer (lost on the way): resending its key can
    // never place a second order. An answer, order or refusal, ends the attempt.
    attempt.current ??= newIdempotencyKey();
    const idempotencyKey = attempt.current;
    const answered = await placeOrder({ variables: { input: { items: [{ productId, quantity }], idempotencyKey } } }).then(
      () => true,
      (failure: unknown) => CombinedGraphQLErrors.is(failure),
    );
    if (answered) attempt.current = null;
  };

  return (
    <section aria-label="Order">
      <form onSubmit={submit} className="order-form">
        <label>
          Quantity{' '}
          <input
            type="number"
            min={1}
            max={100}
            value={quantity}
            onChange={(event) => {
              // Other items are another order: the same key with them would be a CONFLICT.
              attempt.current = null;
              setQuantity(Math.max(1, Math.min(100, Number(event.target.value) || 1)));
            }}
          />
        </label>
        <button type="submit" disabled={loading}>
          {loading ? 'Placing…' : 'Place order'}
        </button>
        {stock !== null && quantity > stock && <small> Only {stock} in stock: inventory will reject this order.</small>}
      </form>
      {error && <Failure error={error} />}
      {placed && (
        <div className="placed">
          <p>
            Order <span data-testid="order-id">{placed.id}</span> for {formatCents(placed.totalCents)}.{' '}
            <button type="button" onClick={() => reset()}>
              Order again
            </button>
          </p>
          <OrderWatcher key={placed.id} orderId={placed.id} />
        </div>
      )}
    </section>
  );
}

/**
 * Asks for the order's status every 300 ms until inventory has decided (CONFIRMED or REJECTED,
 * or anything but PENDING), for 30 s at most. Order is normalised by id, so this status is also
 * the one My orders shows.
 */
export function OrderWatcher({ orderId }: { orderId: string }) {
  const [gaveUp, setGaveUp] = useState(false);
  const { data, error, stopPolling } = useQuery(OrderStatusDocument, {
    variables: { id: orderId },
    fetchPolicy: 'network-only',
    pollInterval: WATCH_EVERY_MS,
  });
  const order = data?.order;
  const settled = order && order.status !== 'PENDING';
  useEffect(() => {
    if (settled) stopPolling();
  }, [settled, stopPolling]);
  useEffect(() => {
    const timer = setTimeout(() => {
      stopPolling();
      setGaveUp(true);
    }, WATCH_AT_MOST_MS);
    return () => clearTimeout(timer);
  }, [stopPolling]);

  return (
    <div className="order-status" aria-live="polite">
      Status: <strong data-testid="order-status">{order?.status ?? 'PENDING'}</strong>
      {order?.reason && (
        <>
          {' '}
          — <span data-testid="order-reason">{order.reason}</span>
        </>
      )}
      {!settled && gaveUp && <p>Still pending after {WATCH_AT_MOST_MS / 1000} s: see My orders later.</p>}
      {error && <Failure error={error} />}
    </div>
  );
}
