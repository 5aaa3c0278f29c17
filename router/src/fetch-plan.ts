import type { PlanNode, QueryPlan } from '@apollo/query-planner';

/**
 * What a query plan says about when its fetches run, so that a fetch can wait for a sibling to
 * the same subgraph and go out merged with it (merge.ts) instead of alone.
 *
 * Fetches merge when they are in flight in the same turn of the event loop. Two fetches to one
 * subgraph on different branches of a Parallel node (user-read: the products names after orders,
 * and after reviews) seldom are: each is issued when its own branch's previous fetch answers. So a
 * fetch that is a leaf of the plan (no later fetch needs its answer) waits while a fetch to the
 * same subgraph on a parallel branch may still be issued, that is, while one of that fetch's
 * predecessors has not answered yet. Waiting costs the operation almost nothing: it ends when its
 * last branch ends, and the merged request ends with the sibling's. When the sibling turns out
 * not to be sent (the gateway skips a fetch with no entities), the leaf goes alone as soon as the
 * sibling's predecessors have answered. Only leaves wait, so nothing a waiting fetch waits for
 * waits itself: no cycle is possible (and a fetch never waits when nothing else of its operation
 * is in flight, in case one slipped through).
 */

interface PlannedFetch {
  service: string;
  /** The text the gateway sends (the data source sees it as the request's query). */
  operation: string;
  /** Fetches that have answered before this one is sent: the earlier steps of every Sequence around it. */
  before: number[];
  /** No fetch of the plan waits for this one's answer. */
  leaf: boolean;
  /** Fetches to the same subgraph that may run at the same time (on another branch of a Parallel). */
  alongside: number[];
}

export interface PlanFetches {
  fetches: PlannedFetch[];
  /** Fetch indexes by subgraph and text. */
  byText: Map<string, number[]>;
}

const textKey = (service: string, operation: string) => `${service}\u0000${operation}`;

interface Step {
  node: PlanNode;
  /** Which child of `node` the path goes through. */
  child: number;
}

/** Null when no fetch of the plan can usefully wait (or the plan has a kind of node this does not follow). */
export function planFetches(plan: QueryPlan): PlanFetches | null {
  const found: { service: string; operation: string; path: Step[] }[] = [];
  let followed = true;
  const walk = (node: PlanNode, path: Step[]) => {
    switch (node.kind) {
      case 'Fetch':
        found.push({ service: node.serviceName, operation: node.operation, path });
        return;
      case 'Flatten':
        walk(node.node, [...path, { node, child: 0 }]);
        return;
      case 'Sequence':
      case 'Parallel':
        node.nodes.forEach((child, i) => walk(child, [...path, { node, child: i }]));
        return;
      case 'Condition':
        if (node.ifClause) walk(node.ifClause, [...path, { node, child: 0 }]);
        if (node.elseClause) walk(node.elseClause, [...path, { node, child: 1 }]);
        return;
      default:
        // Defer (which the gateway does not execute) or anything newer: not followed.
        followed = false;
    }
  };
  if (!plan.node || plan.node.kind === 'Subscription') return null;
  walk(plan.node, []);
  if (!followed || found.length < 2) return null;

  // How two fetches relate is decided where their paths part: a Sequence orders them, a Parallel
  // runs them side by side, a Condition takes one branch or the other.
  const relation = (a: Step[], b: Step[]): 'before' | 'after' | 'alongside' | 'exclusive' => {
    for (let k = 0; k < Math.min(a.length, b.length); k++) {
      const [x, y] = [a[k]!, b[k]!];
      if (x.child === y.child) continue;
      if (x.node.kind === 'Sequence') return x.child < y.child ? 'before' : 'after';
      return x.node.kind === 'Parallel' ? 'alongside' : 'exclusive';
    }
    return 'exclusive';
  };
  const fetches: PlannedFetch[] = found.map(({ service, operation }) => ({ service, operation, before: [], leaf: true, alongside: [] }));
  for (let i = 0; i < found.length; i++) {
    for (let j = i + 1; j < found.length; j++) {
      const [a, b] = [fetches[i]!, fetches[j]!];
      const how = relation(found[i]!.path, found[j]!.path);
      if (how === 'before') {
        b.before.push(i);
        a.leaf = false;
      } else if (how === 'after') {
        a.before.push(j);
        b.leaf = false;
      } else if (how === 'alongside' && a.service === b.service) {
        a.alongside.push(j);
        b.alongside.push(i);
      }
    }
  }
  if (!fetches.some((fetch) => fetch.leaf && fetch.alongside.length > 0)) return null;
  const byText = new Map<string, number[]>();
  fetches.forEach((fetch, i) => {
    const key = textKey(fetch.service, fetch.operation);
    byText.set(key, [...(byText.get(key) ?? []), i]);
  });
  return { fetches, byText };
}

type FetchState = 'pending' | 'issued' | 'answered';

/** One execution of a plan: which of its fetches have been sent and answered. */
export class PlannedOperation {
  private readonly plan: PlanFetches;
  private readonly states: FetchState[];
  /** Fetches sent to the data sources and not yet settled, waiting ones included. */
  private active = 0;
  /** Of those, fetches waiting in a batch. */
  private waiting = 0;
  private retries: (() => void)[] = [];
  private checkScheduled = false;

  constructor(plan: PlanFetches) {
    this.plan = plan;
    this.states = plan.fetches.map(() => 'pending');
  }

  /** A fetch reached the data source: which of the plan's it is (-1 if none matches). */
  begin(service: string, operation: string): number {
    this.active++;
    const candidates = (this.plan.byText.get(textKey(service, operation)) ?? []).filter((i) => this.states[i] === 'pending');
    if (candidates.length === 0) return -1;
    let index = candidates[0]!;
    if (candidates.length > 1) {
      // Two fetches with the same text (an anonymous operation's twin leaves): the one whose
      // predecessors have all answered is the one the gateway can be sending now.
      const settled = this.settledPredecessors();
      index = candidates.find((i) => settled[i]) ?? index;
    }
    this.states[index] = 'issued';
    return index;
  }

  /** The fetch `index` (from begin) has its answer (or its error). */
  end(index: number): void {
    this.active--;
    if (index >= 0) this.states[index] = 'answered';
    this.wake();
  }

  /**
   * Whether a batch of fetches to one subgraph should wait for a sibling fetch to that subgraph:
   * all of them are leaves, and a fetch alongside one of them has not been sent but may still be.
   */
  shouldWait(indexes: readonly number[]): boolean {
    const { fetches } = this.plan;
    if (indexes.some((i) => i < 0 || !fetches[i]!.leaf)) return false;
    if (this.active - this.waiting - indexes.length <= 0) return false;
    const settled = this.settledPredecessors();
    return indexes.some((i) => fetches[i]!.alongside.some((j) => this.states[j] === 'pending' && !settled[j]));
  }

  /** A batch of `size` fetches waits; `retry` decides again after the operation's next answer. */
  wait(size: number, retry: () => void): void {
    this.waiting += size;
    this.retries.push(() => {
      this.waiting -= size;
      retry();
    });
  }

  /**
   * Decides again for every waiting batch, next turn: after an answer (the gateway goes on with the
   * plan in microtasks, so by then whatever that answer lets it send has been sent), or when a fetch
   * joins a waiting batch (likely the sibling it waits for).
   */
  wake(): void {
    if (this.checkScheduled || this.retries.length === 0) return;
    this.checkScheduled = true;
    setImmediate(() => {
      this.checkScheduled = false;
      const retries = this.retries;
      this.retries = [];
      for (const retry of retries) retry();
    });
  }

  /**
   * Per fetch: whether every fetch before it has answered or will never be sent (a pending fetch
   * whose predecessors have all answered was skipped by the gateway: no entities to send).
   * Predecessors come first in the plan's order, so one pass suffices.
   */
  private settledPredecessors(): boolean[] {
    const settled: boolean[] = [];
    this.plan.fetches.forEach((fetch, i) => {
      settled[i] = fetch.before.every((p) => this.states[p] === 'answered' || (this.states[p] === 'pending' && settled[p]));
    });
    return settled;
  }
}

const plans = new WeakMap<QueryPlan, PlanFetches | null>();
const OPERATION = Symbol('planned operation');

/** Remembers, on the operation's context, the plan the gateway is about to execute (its didResolveQueryPlan). */
export function attachPlan(context: object, plan: QueryPlan): void {
  let fetches = plans.get(plan);
  if (fetches === undefined) {
    fetches = planFetches(plan);
    plans.set(plan, fetches);
  }
  (context as { [OPERATION]?: PlannedOperation })[OPERATION] = fetches ? new PlannedOperation(fetches) : undefined;
}

export function plannedOperation(context: object | undefined): PlannedOperation | undefined {
  return (context as { [OPERATION]?: PlannedOperation } | undefined)?.[OPERATION];
}
