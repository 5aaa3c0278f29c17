import { useQuery } from '@apollo/client/react';
import { Failure } from '../Failure.tsx';
import { formatCents, formatDate } from '../format.ts';
import { MyOrdersDocument } from '../generated/graphql/graphql.ts';
import { href } from '../navigation.ts';
import { useSession } from '../session.ts';

const ORDERS_PAGE = 10;

export function MyOrders() {
  const current = useSession();
  // cache-and-network: show what the cache has at once, and fetch again, since orders placed
  // or settled meanwhile change the first page.
  const { data, error, loading, fetchMore } = useQuery(MyOrdersDocument, {
    variables: { first: ORDERS_PAGE },
    fetchPolicy: 'cache-and-network',
    skip: !current,
    notifyOnNetworkStatusChange: true,
  });
  if (!current) {
    return (
      <p>
        <a href={href.signIn(href.orders())}>Sign in</a> to see your orders.
      </p>
    );
  }
  const connection = data?.me?.ordersConnection;
  return (
    <section>
      <h1>My orders</h1>
      {error && <Failure error={error} />}
      {!connection && loading && <p>Loading your orders…</p>}
      {connection && connection.edges.length === 0 && <p>No orders yet.</p>}
      {connection && (
        <ol className="orders" aria-label="Orders">
          {connection.edges.map(({ node }) => (
            <li key={node.id} data-testid="order">
              <strong>Order {node.id}</strong> · <span data-testid="order-row-status">{node.status}</span> · {formatCents(node.totalCents)} · {formatDate(node.createdAt)}
              {node.reason && <p className="reason">{node.reason}</p>}
              <ul>
                {node.items.map((item) => (
                  <li key={item.product?.id ?? item.unitPriceCents}>
                    {item.quantity} × {item.product ? <a href={href.product(item.product.id)}>{item.product.name}</a> : 'a product no longer sold'} at {formatCents(item.unitPriceCents)}
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ol>
      )}
      {connection?.pageInfo.hasNextPage && (
        <button type="button" disabled={loading} onClick={() => void fetchMore({ variables: { after: connection.pageInfo.endCursor } })}>
          Older orders
        </button>
      )}
    </section>
  );
}
