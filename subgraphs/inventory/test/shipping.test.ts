import { describe, expect, it } from 'vitest';
import { shippingEstimateCents } from '../src/shipping.ts';

describe('shippingEstimateCents', () => {
  it.each([
    // [priceCents, weightGrams, expected]
    [9999, 500, 499 + 99],
    [9999, 501, 499 + 2 * 99],
    [10000, 501, 0],
    [10000, 1_000_000, 0],
    [250_000, 50, 0],
    [1, 1, 499 + 99],
    [1, 500, 598],
    [1, 501, 697],
    [1, 1000, 697],
    [1, 1001, 796],
    [9999, 25_000, 499 + 50 * 99],
  ])('price %i, weight %i g → %i', (priceCents, weightGrams, expected) => {
    expect(shippingEstimateCents(priceCents, weightGrams)).toBe(expected);
  });
});
