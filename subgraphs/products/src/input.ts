import { badUserInput, requireInt, requireText } from '@commerce/service-kit';

export const MAX_PRICE_CENTS = 100_000_000;
export const MAX_WEIGHT_GRAMS = 1_000_000;
const SKU = /^[A-Z0-9-]{1,32}$/;

/** SKUs are compared as stored: trimmed and upper-cased, so `sku-1` and `SKU-1` are one SKU. */
export function requireSku(value: string, field: string): string {
  const sku = value.trim().toUpperCase();
  if (!SKU.test(sku)) {
    throw badUserInput(`${field} must be 1 to 32 upper-case letters, digits or dashes`, field);
  }
  return sku;
}

export function requirePriceCents(value: number, field: string): number {
  return requireInt(value, field, { min: 1, max: MAX_PRICE_CENTS });
}

export function requireWeightGrams(value: number, field: string): number {
  return requireInt(value, field, { min: 1, max: MAX_WEIGHT_GRAMS });
}

/** Descriptions may be empty; requireText's min: 0 keeps the length check and the trim. */
export function requireDescription(value: string, field: string): string {
  return requireText(value, field, { min: 0, max: 5000, multiline: true });
}
