import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { operationFromDocument, Supergraph } from '@apollo/federation-internals';
import { QueryPlanner, type QueryPlan } from '@apollo/query-planner';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { planFetches, PlannedOperation, type PlanFetches } from '../src/fetch-plan.ts';

/**
 * What fetch-plan.ts reads off real plans of this supergraph (the router's own planner), and how an
 * operation's fetches are told to wait or go as the plan executes. The requests themselves, merged
 * or not, are checked end to end in compare-stock.test.ts.
 */

const supergraph = Supergraph.build(readFileSync(fileURLToPath(new URL('../supergraph.graphql', import.meta.url)), 'utf8'));
const planner = new QueryPlanner(supergraph);
const planOf = (document: string): QueryPlan => planner.buildQueryPlan(operationFromDocument(supergraph.apiSchema(), parse(document)));
const operationFile = (name: string) => readFileSync(fileURLToPath(new URL(`../../scripts/bench/operations/${name}.graphql`, import.meta.url)), 'utf8');

/** accounts → (reviews → products) ∥ (orders → products): the two products fetches are leaves alongside each other. */
const USER_READ = operationFile('user-read');

function analysed(document: string): PlanFetches {
  const fetches = planFetches(planOf(document));
  if (!fetches) throw new Error('expected fetches that can wait');
  return fetches;
}

const indexOf = (plan: PlanFetches, service: string, after?: string) =>
  plan.fetches.findIndex((fetch) => fetch.service === service && (after === undefined || fetch.before.some((i) => plan.fetches[i]!.service === after)));

describe('what a plan says about its fetches', () => {
  it('user-read: two products leaves, alongside each other, each after accounts and its own branch', () => {
    const plan = analysed(USER_READ);
    expect(plan.fetches.map((fetch) => fetch.service).sort()).toEqual(['accounts', 'orders', 'products', 'products', 'reviews']);
    const [accounts, reviews, orders] = [indexOf(plan, 'accounts'), indexOf(plan, 'reviews'), indexOf(plan, 'orders')];
    const afterReviews = indexOf(plan, 'products', 'reviews');
    const afterOrders = indexOf(plan, 'products', 'orders');
    expect(plan.fetches[afterReviews]!.before.sort()).toEqual([accounts, reviews].sort());
    expect(plan.fetches[afterOrders]!.before.sort()).toEqual([accounts, orders].sort());
    expect(plan.fetches[afterReviews]!.alongside).toEqual([afterOrders]);
    expect(plan.fetches[afterOrders]!.alongside).toEqual([afterReviews]);
    expect(plan.fetches.filter((fetch) => fetch.leaf).map((fetch) => fetch.service)).toEqual(['products', 'products']);
    expect(plan.fetches[accounts]!.leaf).toBe(false);
  });

  it('nothing to wait for: deep-read (no two fetches to one subgraph side by side), a single fetch, a mutation', () => {
    expect(planFetches(planOf(operationFile('deep-read')))).toBeNull();
    expect(planFetches(planOf('{ product(id: "1") { name } }'))).toBeNull();
    expect(planFetches(planOf(operationFile('restock')))).toBeNull();
  });

  it('only leaves may wait: two users side by side, each orders → products', () => {
    const plan = analysed(`{ a: user(id: "7") { orders(first: 1) { items { product { name } } } } b: user(id: "8") { orders(first: 1) { items { product { name } } } } }`);
    const byService = (service: string) => plan.fetches.filter((fetch) => fetch.service === service);
    // The orders fetches run side by side but products need their answers: they never wait.
    expect(byService('orders').map((fetch) => [fetch.leaf, fetch.alongside.length])).toEqual([
      [false, 1],
      [false, 1],
    ]);
    expect(byService('products').map((fetch) => [fetch.leaf, fetch.alongside.length])).toEqual([
      [true, 1],
      [true, 1],
    ]);
  });
});

describe('an operation executing its plan', () => {
  const plan = analysed(USER_READ);
  const query = (service: string, after?: string) => plan.fetches[indexOf(plan, service, after)]!.operation;

  it('a leaf waits while its sibling may still come, and goes once the sibling is sent', () => {
    const operation = new PlannedOperation(plan);
    const accounts = operation.begin('accounts', query('accounts'));
    expect(operation.shouldWait([accounts])).toBe(false); // not a leaf
    operation.end(accounts);
    const reviews = operation.begin('reviews', query('reviews'));
    const orders = operation.begin('orders', query('orders'));
    operation.end(orders);
    const first = operation.begin('products', query('products', 'orders'));
    expect(first).toBe(indexOf(plan, 'products', 'orders'));
    // reviews has not answered: its products fetch may still come.
    expect(operation.shouldWait([first])).toBe(true);
    operation.end(reviews);
    const second = operation.begin('products', query('products', 'reviews'));
    expect(operation.shouldWait([first, second])).toBe(false);
  });

  it('a sibling the gateway skips (no entities) releases the leaf once its predecessors have answered', () => {
    const operation = new PlannedOperation(plan);
    operation.end(operation.begin('accounts', query('accounts')));
    const reviews = operation.begin('reviews', query('reviews'));
    operation.end(operation.begin('orders', query('orders')));
    const first = operation.begin('products', query('products', 'orders'));
    expect(operation.shouldWait([first])).toBe(true);
    operation.end(reviews); // and no products fetch follows it
    expect(operation.shouldWait([first])).toBe(false);
  });

  it('never waits when nothing else of the operation is in flight, nor for a fetch it cannot place', () => {
    const operation = new PlannedOperation(plan);
    operation.end(operation.begin('accounts', query('accounts')));
    // The plan's reviews fetch is pending, but nothing is in flight: nothing could wake the leaf.
    const first = operation.begin('products', query('products', 'orders'));
    expect(operation.shouldWait([first])).toBe(false);
    expect(operation.begin('products', 'query { somethingElse }')).toBe(-1);
    expect(operation.shouldWait([-1])).toBe(false);
  });

  it('twin fetches with the same text are told apart by which one can be sent now', () => {
    const anonymous = analysed(USER_READ.replace(/query UserRead/, 'query'));
    const products = anonymous.fetches.filter((fetch) => fetch.service === 'products');
    expect(products[0]!.operation).toBe(products[1]!.operation);
    const operation = new PlannedOperation(anonymous);
    operation.end(operation.begin('accounts', anonymous.fetches[indexOf(anonymous, 'accounts')]!.operation));
    operation.begin('reviews', anonymous.fetches[indexOf(anonymous, 'reviews')]!.operation);
    operation.end(operation.begin('orders', anonymous.fetches[indexOf(anonymous, 'orders')]!.operation));
    // Only the products fetch after orders can be sent now, whichever comes first in the plan.
    expect(operation.begin('products', products[0]!.operation)).toBe(indexOf(anonymous, 'products', 'orders'));
  });

  it('a waiting batch is decided again after the operation’s next answer', async () => {
    const operation = new PlannedOperation(plan);
    operation.end(operation.begin('accounts', query('accounts')));
    const reviews = operation.begin('reviews', query('reviews'));
    operation.end(operation.begin('orders', query('orders')));
    const first = operation.begin('products', query('products', 'orders'));
    const decided: boolean[] = [];
    const decide = () => {
      const wait = operation.shouldWait([first]);
      decided.push(wait);
      if (wait) operation.wait(1, decide);
    };
    decide();
    operation.end(reviews);
    await new Promise((resolve) => setImmediate(resolve));
    expect(decided).toEqual([true, false]);
  });
});
