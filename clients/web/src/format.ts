const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

export const formatCents = (cents: number) => money.format(cents / 100);

export const formatDate = (iso: string) => new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });

export const formatRating = (rating: number | null) => (rating === null ? 'no ratings yet' : `${rating.toFixed(1)} / 5`);

export const stars = (rating: number) => '★'.repeat(rating) + '☆'.repeat(5 - rating);

/** Lower-case words for enum values: BOOKS → Books. */
export const titleCase = (value: string) => value.charAt(0) + value.slice(1).toLowerCase();
