import type { Cost } from './check.ts';
import type { DataShape, SizeName } from './data.ts';
import type { OperationName } from './operations.ts';
import { SYSTEM_LABELS, type SystemName } from './systems.ts';

export interface RoundResult {
  round: number;
  rps: number;
  requests: number;
  p50: number;
  p95: number;
  p99: number;
  maxRssMb: number;
  maxSubgraphsRssMb: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  errorBodies: number;
  badSamples: number;
  /** Subgraph requests and SQL statements per operation, averaged over the whole run. */
  subgraphRequestsPerOp: number;
  sqlPerOp: number;
  /** CPU ms per request by component (see LoadResult.cpu). */
  cpu: { system: number; subgraphs: number; postgres: number; loadGenerator: number; rest: number; machineBusy: number };
}

export interface Cell {
  size: SizeName;
  operation: OperationName;
  system: SystemName;
  rounds: RoundResult[];
  medianRps: number;
  /** Percentiles of every request of every round together, in ms. */
  p50: number;
  p95: number;
  p99: number;
  maxRssMb: number;
  maxSubgraphsRssMb: number;
  /** One request, counted before timing. */
  cost: Cost | null;
  /** CPU ms per request by component, median over the rounds. */
  cpu: RoundResult['cpu'] | null;
  failures: number;
  firstBadBody: string | null;
  /** This system's median RPS over this supergraph's (router = 1). */
  rpsVsRouter: number | null;
  p99VsRouter: number | null;
}

export interface Target {
  name: string;
  goal: string;
  met: boolean | null;
  detail: string;
}

export interface BenchResult {
  runId: string;
  startedAt: string;
  finishedAt: string;
  complete: boolean;
  machine: Record<string, unknown>;
  options: Record<string, unknown>;
  shapes: Partial<Record<SizeName, DataShape>>;
  cells: Cell[];
  /** VmHWM (peak RSS over the process's life) of each system's process per data size, MB. */
  peakMemory: { size: SizeName; system: SystemName; vmHwmMb: number }[];
  targets: Target[];
  notes: string[];
}

const fmt = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);

export function evaluateTargets(cells: readonly Cell[], peakMemory: BenchResult['peakMemory']): Target[] {
  const find = (size: SizeName, operation: OperationName, system: SystemName) =>
    cells.find((c) => c.size === size && c.operation === operation && c.system === system);
  const routerCells = cells.filter((c) => c.system === 'router');
  const ratioTarget = (name: string, goal: string, other: SystemName, test: (ratio: number) => boolean): Target => {
    const parts: string[] = [];
    let met: boolean | null = null;
    for (const cell of routerCells) {
      const theirs = find(cell.size, cell.operation, other);
      if (!theirs || !theirs.medianRps) continue;
      const ratio = cell.medianRps / theirs.medianRps;
      met = (met ?? true) && test(ratio);
      parts.push(`${cell.size}/${cell.operation} ${ratio.toFixed(2)}×`);
    }
    return { name, goal, met, detail: parts.join(', ') || 'not measured' };
  };
  const targets = [
    ratioTarget('router vs stock @apollo/gateway', 'router RPS ≥ 2× stock gateway RPS, every operation', 'apollo-gateway', (r) => r >= 2),
    ratioTarget('router vs Hive Gateway', 'router RPS > Hive Gateway RPS, every operation', 'hive-gateway', (r) => r > 1),
    ratioTarget('supergraph vs monolith', 'router RPS ≥ 0.5× monolith RPS, every operation', 'monolith', (r) => r >= 0.5),
  ];
  const scaleParts: string[] = [];
  let scaleMet: boolean | null = null;
  for (const large of routerCells.filter((c) => c.size === 'large')) {
    const seed = find('seed', large.operation, 'router');
    if (!seed) continue;
    const ratio = large.p99 / seed.p99;
    scaleMet = (scaleMet ?? true) && ratio <= 1.5;
    scaleParts.push(`${large.operation} ${fmt(seed.p99)} → ${fmt(large.p99)} ms (${ratio.toFixed(2)}×)`);
  }
  targets.push({ name: 'p99 at scale', goal: 'router p99 at large scale ≤ 1.5× p99 at seed size', met: scaleMet, detail: scaleParts.join(', ') || 'not measured' });
  const rss = Math.max(0, ...routerCells.map((c) => c.maxRssMb));
  const hwm = Math.max(0, ...peakMemory.filter((m) => m.system === 'router').map((m) => m.vmHwmMb));
  targets.push({
    name: 'router memory',
    goal: 'router RSS under load ≤ 300 MB',
    met: routerCells.length ? Math.max(rss, hwm) <= 300 : null,
    detail: routerCells.length ? `max VmRSS under load ${fmt(rss, 0)} MB, VmHWM ${fmt(hwm, 0)} MB` : 'not measured',
  });
  return targets;
}

/** The compact table printed at the end (and pasted into the README section). */
export function table(result: BenchResult): string {
  const lines: string[] = [];
  const header = `| size | operation | system | median RPS | × router | p50 ms | p95 ms | p99 ms | max RSS MB | subgraph req/op | SQL/op |`;
  lines.push(header, header.replace(/[^|]+/g, (cell) => '-'.repeat(Math.max(3, cell.length))));
  for (const cell of result.cells) {
    lines.push(
      `| ${cell.size} | ${cell.operation} | ${cell.system} | ${fmt(cell.medianRps, 0)} | ${fmt(cell.rpsVsRouter, 2)} | ${fmt(cell.p50)} | ${fmt(cell.p95)} | ${fmt(cell.p99)} | ` +
        `${fmt(cell.maxRssMb, 0)} | ${fmt(cell.cost?.subgraphRequests, 0)} | ${fmt(cell.cost?.sqlStatements, 0)} |`,
    );
  }
  lines.push(
    '',
    'CPU per request (ms; "rest" is everything else on the machine, e.g. other users\' processes):',
    '',
    '| size | operation | system | gateway/server | subgraphs | PostgreSQL | load generator | rest | machine busy |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const cell of result.cells) {
    if (!cell.cpu) continue;
    lines.push(
      `| ${cell.size} | ${cell.operation} | ${cell.system} | ${fmt(cell.cpu.system, 2)} | ${fmt(cell.cpu.subgraphs, 2)} | ${fmt(cell.cpu.postgres, 2)} | ` +
        `${fmt(cell.cpu.loadGenerator, 2)} | ${fmt(cell.cpu.rest, 2)} | ${fmt(cell.cpu.machineBusy * 100, 0)}% |`,
    );
  }
  lines.push('', '| target | goal | met | measured |', '|---|---|---|---|');
  for (const target of result.targets) {
    lines.push(`| ${target.name} | ${target.goal} | ${target.met === null ? 'n/a' : target.met ? 'yes' : 'no'} | ${target.detail} |`);
  }
  return lines.join('\n');
}

const COLORS: Record<SystemName, string> = {
  router: '#2b6cb0',
  'apollo-gateway': '#9b2c2c',
  'hive-gateway': '#b7791f',
  monolith: '#2f855a',
};

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Grouped bars of median RPS per operation and system, one panel per data size, p99 over each bar. */
export function chart(result: BenchResult): string {
  const sizes = [...new Set(result.cells.map((c) => c.size))];
  const operations = [...new Set(result.cells.map((c) => c.operation))];
  const systems = [...new Set(result.cells.map((c) => c.system))];
  const width = 1040;
  const panelHeight = 300;
  const top = 70;
  const left = 70;
  const plotWidth = width - left - 30;
  const plotHeight = panelHeight - 90;
  const height = top + sizes.length * panelHeight + 20;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${left}" y="24" font-size="16" font-weight="bold">Median requests/s per operation (higher is better); p99 latency in ms above each bar</text>`,
    `<text x="${left}" y="42" fill="#555">${escape(String(result.machine.summary ?? ''))}</text>`,
  );
  systems.forEach((system, i) => {
    const x = left + i * 240;
    out.push(`<rect x="${x}" y="50" width="12" height="12" fill="${COLORS[system]}"/>`, `<text x="${x + 18}" y="60">${escape(SYSTEM_LABELS[system])}</text>`);
  });
  sizes.forEach((size, panel) => {
    const y0 = top + panel * panelHeight + 20;
    const cells = result.cells.filter((c) => c.size === size);
    const max = Math.max(1, ...cells.map((c) => c.medianRps));
    const scaleMax = niceCeiling(max);
    const shape = result.shapes[size];
    const title = shape
      ? `${size}: ${shape.products.toLocaleString('en')} products, ${shape.reviews.toLocaleString('en')} reviews, ${shape.users.toLocaleString('en')} users, ${shape.orders.toLocaleString('en')} orders`
      : size;
    out.push(`<text x="${left}" y="${y0}" font-weight="bold">${escape(title)}</text>`);
    const base = y0 + 20 + plotHeight;
    for (let t = 0; t <= 4; t++) {
      const value = (scaleMax * t) / 4;
      const y = base - (plotHeight * t) / 4;
      out.push(
        `<line x1="${left}" x2="${left + plotWidth}" y1="${y}" y2="${y}" stroke="#e2e2e2"/>`,
        `<text x="${left - 6}" y="${y + 4}" text-anchor="end" fill="#555">${Math.round(value)}</text>`,
      );
    }
    const groupWidth = plotWidth / operations.length;
    const barWidth = Math.min(48, (groupWidth - 30) / systems.length);
    operations.forEach((operation, g) => {
      const gx = left + g * groupWidth + (groupWidth - barWidth * systems.length) / 2;
      systems.forEach((system, b) => {
        const cell = cells.find((c) => c.operation === operation && c.system === system);
        if (!cell) return;
        const h = (cell.medianRps / scaleMax) * plotHeight;
        const x = gx + b * barWidth;
        out.push(
          `<rect x="${x + 2}" y="${base - h}" width="${barWidth - 4}" height="${h}" fill="${COLORS[system]}"><title>${escape(
            `${SYSTEM_LABELS[system]} · ${operation} · ${size}: ${fmt(cell.medianRps, 0)} req/s, p50 ${fmt(cell.p50)} ms, p95 ${fmt(cell.p95)} ms, p99 ${fmt(cell.p99)} ms`,
          )}</title></rect>`,
          `<text x="${x + barWidth / 2}" y="${base - h - 16}" text-anchor="middle" font-size="10" fill="#222">${fmt(cell.medianRps, 0)}</text>`,
          `<text x="${x + barWidth / 2}" y="${base - h - 5}" text-anchor="middle" font-size="9" fill="#777">${fmt(cell.p99, 0)}ms</text>`,
        );
      });
      out.push(`<text x="${left + g * groupWidth + groupWidth / 2}" y="${base + 16}" text-anchor="middle">${escape(operation)}</text>`);
    });
    out.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${base}" y2="${base}" stroke="#333"/>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

function niceCeiling(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (step * magnitude >= value * 1.12) return step * magnitude;
  }
  return 10 * magnitude;
}
