import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

/** What every scenario's run starts with: its start, an id for its databases and files, and a log with the elapsed time. */
export function startRun(): { startedAt: Date; runId: string; log: (message: string) => void } {
  const startedAt = new Date();
  const runId = `${startedAt.toISOString().slice(2, 19).replace(/\D/g, '')}_${randomBytes(2).toString('hex')}`;
  const log = (message: string) => {
    const elapsed = Math.round((Date.now() - startedAt.getTime()) / 1000);
    console.log(`[${String(Math.floor(elapsed / 60)).padStart(2, '0')}:${String(elapsed % 60).padStart(2, '0')}] ${message}`);
  };
  return { startedAt, runId, log };
}

/** The machine a result was measured on, in one line. */
export function machineSummary(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}`;
}

/**
 * Writes a run's files twice, as `<prefix><timestamp>.<ext>` and `<prefix>latest.<ext>` (the
 * one meant to be committed), and returns the timestamped name.
 */
export async function writeResultFiles(out: string, prefix: string, startedAt: Date, files: Readonly<Record<string, string>>): Promise<string> {
  await mkdir(out, { recursive: true });
  const stamped = `${prefix}${startedAt.toISOString().replace(/[:.]/g, '-')}`;
  for (const name of [stamped, `${prefix}latest`]) {
    for (const [extension, content] of Object.entries(files)) await writeFile(join(out, `${name}.${extension}`), content);
  }
  return stamped;
}
