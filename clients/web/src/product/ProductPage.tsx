import { useQuery } from '@apollo/client/react';
import { Failure } from '../Failure.tsx';
import { formatCents, formatDate, formatRating, stars, titleCase } from '../format.ts';
import { ProductDetailsDocument, ProductReviewsDocument } from '../generated/graphql/graphql.ts';
import { href } from '../navigation.ts';
import { PlaceOrderForm } from './PlaceOrderForm.tsx';

const REVIEWS_PAGE = 5;

export function ProductPage({ id }: { id: string }) {
  const { data, error, loading, refetch } = useQuery(ProductDetailsDocument, { variables: { id } });
  const product = data?.product;
  if (error && !product) return <Failure error={error} retry={() => void refetch()} />;
  if (!product) return <p>{loading ? 'Loading…' : 'No such product.'}</p>;
  return (
    <article className="product">
      <p>
        <a href={href.catalogue()}>← Catalogue</a>
      </p>
      <h1 data-testid="product-name">{product.name}</h1>
      <p className="description">{product.description}</p>
      <dl>
        <dt>Price</dt>
        <dd>{formatCents(product.priceCents)}</dd>
        <dt>Category</dt>
        <dd>{titleCase(product.category)}</dd>
        <dt>In stock</dt>
        <dd data-testid="stock">{product.stock ?? 'unknown'}</dd>
        <dt>Shipping</dt>
        <dd>{product.shippingEstimateCents === null ? 'unknown' : product.shippingEstimateCents === 0 ? 'free' : formatCents(product.shippingEstimateCents)}</dd>
        <dt>Rating</dt>
        <dd data-testid="rating">
          {formatRating(product.averageRating)} ({product.reviewCount ?? 0} review{product.reviewCount === 1 ? '' : 's'})
        </dd>
        <dt>SKU</dt>
        <dd>{product.sku}</dd>
      </dl>
      {/* One error for the parts a service could not give (e.g. inventory down); the rest still shows. */}
      {error && <Failure error={error} />}
      <PlaceOrderForm productId={product.id} stock={product.stock} />
      <Reviews productId={product.id} />
    </article>
  );
}

function Reviews({ productId }: { productId: string }) {
  const { data, error, loading, fetchMore } = useQuery(ProductReviewsDocument, { variables: { id: productId, first: REVIEWS_PAGE }, notifyOnNetworkStatusChange: true });
  const connection = data?.product?.reviewsConnection;
  return (
    <section aria-label="Reviews">
      <h2>Reviews</h2>
      {error && <Failure error={error} />}
      {!connection && loading && <p>Loading reviews…</p>}
      {connection && connection.edges.length === 0 && <p>No reviews yet.</p>}
      {connection && (
        <ol className="reviews">
          {connection.edges.map(({ node }) => (
            <li key={node.id} data-testid="review">
              <span aria-label={`${node.rating} of 5 stars`}>{stars(node.rating)}</span>{' '}
              <strong data-testid="review-author">{node.author?.name ?? 'A former customer'}</strong> <small>{formatDate(node.createdAt)}</small>
              <p>{node.body}</p>
            </li>
          ))}
        </ol>
      )}
      {connection?.pageInfo.hasNextPage && (
        <button type="button" disabled={loading} onClick={() => void fetchMore({ variables: { after: connection.pageInfo.endCursor } })}>
          More reviews
        </button>
      )}
    </section>
  );
}
