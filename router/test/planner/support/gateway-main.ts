// A gateway in its own process, so that the planner patches can be switched off for it alone
// (the patched modules read COMMERCE_PLANNER_PATCHES once, when they are loaded).
// Usage: node gateway-main.ts <supergraph file>; prints {"url": ...} once it listens, and exits
// when its stdin closes.
import { readFile } from 'node:fs/promises';
import { startGateway } from './harness.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: gateway-main.ts <supergraph file>');
const gateway = await startGateway(await readFile(file, 'utf8'));
process.stdout.write(`${JSON.stringify({ url: gateway.url })}\n`);
process.stdin.resume();
process.stdin.once('end', () => {
  void gateway.stop().finally(() => process.exit(0));
});
