/** A user as this service knows one: accounts owns the row, orders only holds its id. */
export type UserRef = { id: number };
