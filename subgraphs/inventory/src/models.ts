/**
 * Inventory's parent for Product: the numeric id, plus what the router sent for @requires
 * (priceCents and weightGrams, only when shippingEstimateCents is asked), plus the stock when a
 * write already knows it (restock), so reading it back costs no query.
 */
export type ProductRef = {
  id: number;
  priceCents?: number | null;
  weightGrams?: number | null;
  stock?: number;
};
