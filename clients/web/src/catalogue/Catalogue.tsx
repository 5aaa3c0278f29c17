import { useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { Failure } from '../Failure.tsx';
import { formatCents, formatRating, titleCase } from '../format.ts';
import { CatalogueDocument, type Category } from '../generated/graphql/graphql.ts';
import { href } from '../navigation.ts';

const CATEGORIES: readonly Category[] = ['BOOKS', 'ELECTRONICS', 'HOME', 'OUTDOOR', 'TOYS'];
export const CATALOGUE_PAGE = 12;

export function Catalogue() {
  const [category, setCategory] = useState<Category | null>(null);
  const { data, error, loading, fetchMore, refetch } = useQuery(CatalogueDocument, {
    variables: { first: CATALOGUE_PAGE, category },
    notifyOnNetworkStatusChange: true,
  });
  const page = data?.products;
  const [loadingMore, setLoadingMore] = useState(false);
  const more = async () => {
    if (!page?.pageInfo.endCursor) return;
    setLoadingMore(true);
    try {
      // relayStylePagination (apollo.ts) appends this page's edges to the ones already shown.
      await fetchMore({ variables: { after: page.pageInfo.endCursor } });
    } finally {
      setLoadingMore(false);
    }
  };

  return (
    <section>
      <h1>Catalogue</h1>
      <div className="filters" role="group" aria-label="Category">
        {[null, ...CATEGORIES].map((value) => (
          <button key={value ?? 'all'} type="button" aria-pressed={category === value} onClick={() => setCategory(value)}>
            {value ? titleCase(value) : 'All'}
          </button>
        ))}
      </div>
      {error && <Failure error={error} retry={() => void refetch()} />}
      {!page && loading && <p>Loading the catalogue…</p>}
      {page && (
        <>
          <ul className="products" aria-label="Products">
            {page.edges.map(({ node }) => (
              <li key={node.id} data-testid="product-card" data-category={node.category}>
                <a href={href.product(node.id)}>
                  <strong>{node.name}</strong>
                </a>
                <span>{titleCase(node.category)}</span>
                <span>{formatCents(node.priceCents)}</span>
                <span>{node.inStock === null ? 'stock unknown' : node.inStock ? 'In stock' : 'Out of stock'}</span>
                <span>{formatRating(node.averageRating)}</span>
              </li>
            ))}
          </ul>
          <p className="count">
            Showing {page.edges.length} product{page.edges.length === 1 ? '' : 's'}
          </p>
          {page.pageInfo.hasNextPage && (
            <button type="button" onClick={more} disabled={loadingMore}>
              {loadingMore ? 'Loading…' : 'Load more'}
            </button>
          )}
        </>
      )}
    </section>
  );
}
