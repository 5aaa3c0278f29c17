import { ConfigError } from './env.ts';
import { describeError, type Logger } from './logger.ts';

export interface Started {
  logger: Logger;
  stop(): Promise<void>;
}

/**
 * The life of a server process: start it; on SIGINT or SIGTERM stop it once, cleanly, and exit 0;
 * if starting fails, log one clear line (a configuration message as it is) and exit 1.
 */
export async function runProcess(bootLogger: Logger, start: () => Promise<Started>): Promise<void> {
  let started: Started;
  try {
    started = await start();
  } catch (error) {
    bootLogger.error(error instanceof ConfigError ? error.message : `failed to start: ${describeError(error).error}`);
    process.exit(1);
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    started.logger.info(`${signal}: shutting down`);
    try {
      await started.stop();
    } catch (error) {
      started.logger.error('unclean shutdown', describeError(error));
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
