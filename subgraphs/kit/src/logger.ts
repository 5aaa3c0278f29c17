import { createRequire } from 'node:module';
import { pino, type Logger as PinoLogger } from 'pino';
import type PinoPretty from 'pino-pretty';

// pino-pretty only when a readable line is asked for: production writes JSON, and loading the
// prettifier would keep about 1.1 MB of heap in every process for nothing.
const requireModule = createRequire(import.meta.url);

/**
 * Structured logging on pino: one JSON line per event in production (what log shippers read),
 * a readable line in development. Secrets never reach a log line: the paths below are redacted
 * wherever they appear in the fields of an event.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose every line also carries `fields` (e.g. a request id). */
  child(fields: Record<string, unknown>): Logger;
}

export const REDACTED_PATHS = [
  'authorization',
  'cookie',
  'password',
  'token',
  'accessToken',
  'refreshToken',
  'secret',
  'headers.authorization',
  'headers.cookie',
  'variables.password',
  'variables.refreshToken',
  'variables.input.password',
  '*.authorization',
  '*.password',
  '*.refreshToken',
];

export function createLogger(name: string, level: LogLevel = 'info', json = process.env.NODE_ENV === 'production'): Logger {
  const options = {
    name,
    level,
    messageKey: 'message',
    base: undefined,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const destination = json
    ? pino.destination({ dest: 1, sync: true })
    : (requireModule('pino-pretty') as typeof PinoPretty)({ sync: true, colorize: process.stdout.isTTY === true, messageKey: 'message', ignore: 'name,time', singleLine: true });
  return wrap(pino(options, destination));
}

function wrap(log: PinoLogger): Logger {
  return {
    debug: (message, fields) => (fields ? log.debug(fields, message) : log.debug(message)),
    info: (message, fields) => (fields ? log.info(fields, message) : log.info(message)),
    warn: (message, fields) => (fields ? log.warn(fields, message) : log.warn(message)),
    error: (message, fields) => (fields ? log.error(fields, message) : log.error(message)),
    child: (fields) => wrap(log.child(fields)),
  };
}

export function describeError(error: unknown): Record<string, unknown> {
  return error instanceof Error ? { error: error.message, stack: error.stack } : { error: String(error) };
}
