/**
 * The example operations the IDE opens with, one tab each. Plain data (no DOM, no React): the
 * Vite config reads it to bake the tabs into the bundle, and the router's tests run every tab
 * against the seeded supergraph, so an example that stops working fails the build's tests.
 */

export interface ExampleTab {
  query: string;
  variables?: string;
  headers?: string;
}

/** Seeded users 1..50 sign in with this password in development (see the README, Signing in). */
export const DEVELOPMENT_PASSWORD = 'commerce-dev';
/** How many users the seed creates (the kit's SEED.users); only they have the development password. */
export const SEEDED_USERS = 50;
export const seededEmail = (userId: number): string => `user${userId}@example.com`;

const json = (value: unknown): string => JSON.stringify(value, null, 2);

const CATALOGUE: ExampleTab = {
  query: `# Browse the catalogue, a page of one category at a time:
# products, inventory (stock) and reviews (rating) answer
# in one request. Next page: set "after" in Variables to
# pageInfo.endCursor.
# Categories: BOOKS ELECTRONICS HOME OUTDOOR TOYS.
query Catalogue($category: Category, $first: Int = 5, $after: String) {
  products(category: $category, first: $first, after: $after) {
    nodes {
      id
      name
      priceCents
      stock
      inStock
      averageRating
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
`,
  variables: json({ category: 'BOOKS', first: 5 }),
};

const PRODUCT_PAGE: ExampleTab = {
  query: `# A product page. The router plans it into fetches to
# products, inventory (stock; shipping estimate from price
# and weight), reviews, and accounts (reviewers' names).
query ProductPage($id: ID!) {
  product(id: $id) {
    name
    priceCents
    stock
    shippingEstimateCents
    averageRating
    reviewCount
    reviews(first: 3) {
      rating
      author {
        name
      }
    }
  }
}
`,
  variables: json({ id: '1' }),
};

const MY_ACCOUNT: ExampleTab = {
  query: `# Needs a signed-in user: "Sign in as" (top right, in
# development), or run the SignIn tab and put this in
# Headers (below):
#   {"authorization": "Bearer <accessToken>"}
# Signed out, me is null.
query MyAccount {
  me {
    id
    name
    email
    orders(first: 5) {
      id
      status
      totalCents
      createdAt
      items {
        quantity
        unitPriceCents
        product {
          name
        }
      }
    }
  }
}
`,
};

const SIGN_IN: ExampleTab = {
  query: `# Seeded users user1@example.com … user${SEEDED_USERS}@example.com
# have the development password "${DEVELOPMENT_PASSWORD}".
# User 1 (Ada Lovelace) is an admin.
# To act as this user in another tab, put in its Headers:
#   {"authorization": "Bearer <accessToken>"}
# ("Sign in as", top right, does it for every tab.)
mutation SignIn {
  signIn(email: "${seededEmail(1)}", password: "${DEVELOPMENT_PASSWORD}") {
    accessToken
    expiresIn
    refreshToken
    user {
      id
      name
      email
    }
  }
}
`,
};

/** What an example asks of an order: used wherever a mutation's result is (or holds) an Order. */
export const ORDER_FIELDS = ['id', 'status', 'totalCents', { items: ['quantity', 'unitPriceCents', { product: ['name'] }] }] as const;

/** A selection: field names, and nested selections keyed by field name. */
export type Selection = readonly (string | { readonly [field: string]: Selection })[];

/** A selection as indented GraphQL, each line starting at `indent`. */
export function renderSelection(selection: Selection, indent: string): string {
  return selection
    .map((entry) =>
      typeof entry === 'string'
        ? `${indent}${entry}`
        : Object.entries(entry)
            .map(([field, inner]) => `${indent}${field} {\n${renderSelection(inner, `${indent}  `)}\n${indent}}`)
            .join('\n'),
    )
    .join('\n');
}

export interface PlaceOrderShape {
  /** The type of placeOrder's `input` argument as written in the schema, e.g. `PlaceOrderInput!`. */
  inputType: string;
  /** What to ask of placeOrder's result. */
  place: Selection;
  /** What to ask of cancelOrder's result; null when the graph has no cancelOrder. */
  cancel: Selection | null;
}

/** Placing an order (and cancelling it), for a graph whose placeOrder has the shape the build found. */
export function placeOrderTab(shape: PlaceOrderShape): ExampleTab {
  const cancel =
    shape.cancel === null
      ? ''
      : `
# Then cancel it: put the order's id in "orderId"
# (Variables) and run CancelOrder.
mutation CancelOrder($orderId: ID!) {
  cancelOrder(id: $orderId) {
${renderSelection(shape.cancel, '    ')}
  }
}
`;
  return {
    query: `# Needs a signed-in user ("Sign in as", top right).
# The order starts PENDING, then is CONFIRMED (or REJECTED)
# once inventory has reserved the stock: see MyAccount.
# Run it again with the same idempotencyKey: the same order
# comes back, no second one is placed. A new order needs a
# new key.
mutation PlaceOrder($input: ${shape.inputType}) {
  placeOrder(input: $input) {
${renderSelection(shape.place, '    ')}
  }
}
${cancel}`,
    variables: json({
      input: { items: [{ productId: '1', quantity: 1 }, { productId: '2', quantity: 2 }], idempotencyKey: 'ide-example-order-1' },
      ...(shape.cancel === null ? {} : { orderId: '' }),
    }),
  };
}

/** The tabs, in order: catalogue, product page, my account, sign in, and placing an order when the graph can. */
export function exampleTabs(placeOrder?: ExampleTab): ExampleTab[] {
  return [CATALOGUE, PRODUCT_PAGE, MY_ACCOUNT, SIGN_IN, ...(placeOrder ? [placeOrder] : [])];
}
