import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createLogger, startPeriodic, type Logger } from '../src/index.ts';

/** A logger that keeps its warnings and infos. */
function recording(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = { ...createLogger('periodic-test', 'silent'), lines, info: (m: string) => void lines.push(`info ${m}`), warn: (m: string) => void lines.push(`warn ${m}`) };
  return logger;
}

describe('a periodic task', () => {
  it('runs at once, then on its schedule; a failed round is logged and the next one runs', async () => {
    const logger = recording();
    let rounds = 0;
    const task = startPeriodic(
      {
        name: 'test prune',
        everyMs: 30,
        run: async () => {
          rounds++;
          if (rounds === 2) throw new Error('database away');
          return rounds === 1 ? 3 : 0;
        },
      },
      null,
      logger,
    );
    expect(rounds).toBe(1);
    await sleep(150);
    await task.stop();
    expect(rounds).toBeGreaterThanOrEqual(3);
    expect(logger.lines.slice(0, 2)).toEqual(['info test prune: 3 rows', 'warn test prune failed; will try again']);
  });

  it('never starts a round while one is running, and stop waits for it', async () => {
    let running = 0;
    let most = 0;
    let finished = 0;
    const task = startPeriodic(
      {
        name: 'slow',
        everyMs: 10,
        run: async () => {
          most = Math.max(most, ++running);
          await sleep(80);
          running--;
          finished++;
          return 0;
        },
      },
      null,
      recording(),
    );
    await sleep(50);
    await task.stop();
    expect(most).toBe(1);
    expect(finished).toBe(1);
    await sleep(50);
    expect(finished).toBe(1);
  });
});
