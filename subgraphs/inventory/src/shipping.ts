export const FREE_SHIPPING_FROM_CENTS = 10_000;
export const HANDLING_CENTS = 499;
export const CENTS_PER_STARTED_500_GRAMS = 99;

/**
 * Estimated shipping in cents. Orders of 100.00 (10000 cents) or more ship free; below that it
 * costs 499 handling plus 99 for every started 500 g: 500 g → 499 + 99 = 598, 501 g → 499 + 198 = 697.
 */
export function shippingEstimateCents(priceCents: number, weightGrams: number): number {
  if (priceCents >= FREE_SHIPPING_FROM_CENTS) return 0;
  return HANDLING_CENTS + CENTS_PER_STARTED_500_GRAMS * Math.ceil(weightGrams / 500);
}
