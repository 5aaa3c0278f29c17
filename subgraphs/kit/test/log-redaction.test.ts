import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * The README promises that tokens, passwords and cookies are redacted from every log line. Here
 * the kit's own createLogger writes JSON lines (as in production) in a child process, and its
 * standard output is read back: what a log shipper would collect.
 */
const LOGGER = new URL('../src/logger.ts', import.meta.url).href;

function logLines(script: string): Record<string, unknown>[] {
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', `import { createLogger } from ${JSON.stringify(LOGGER)};\n${script}`], {
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  return run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('log lines', () => {
  it('redact cookies, tokens and passwords wherever a request puts them, also through a child logger', () => {
    const lines = logLines(`
      const log = createLogger('redaction-test', 'info', true);
      const fields = {
        headers: { cookie: 'session=cookie-secret', authorization: 'Bearer header.token.secret', 'user-agent': 'curl/8' },
        cookie: 'session=cookie-secret',
        variables: { password: 'password-secret', refreshToken: 'refresh-secret', input: { password: 'input-password-secret', email: 'a@example.com' } },
        accessToken: 'access-secret',
        token: 'token-secret',
      };
      log.info('request', fields);
      log.child({ requestId: 'r1' }).warn('again', fields);
    `);
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(JSON.stringify(line)).not.toMatch(/secret/);
      expect(line).toMatchObject({
        headers: { cookie: '[redacted]', authorization: '[redacted]', 'user-agent': 'curl/8' },
        cookie: '[redacted]',
        variables: { password: '[redacted]', refreshToken: '[redacted]', input: { password: '[redacted]', email: 'a@example.com' } },
        accessToken: '[redacted]',
        token: '[redacted]',
      });
    }
    expect(lines[1]).toMatchObject({ requestId: 'r1', message: 'again' });
  });

  it('are one readable line each in development (the prettifier, loaded only then), redacted too', () => {
    const run = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `import { createLogger } from ${JSON.stringify(LOGGER)};\ncreateLogger('pretty-test', 'info', false).child({ requestId: 'r2' }).warn('signed in', { password: 'pw-secret', userId: 7 });`],
      { encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('WARN: signed in {"requestId":"r2","password":"[redacted]","userId":7}\n');
  });
});
