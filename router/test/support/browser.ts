/**
 * Headless Chromium for the browser tests: Debian's package driven by playwright-core (its own
 * browser download does not work here), a fresh profile, every request to a host other than this
 * machine aborted and recorded, and every console error, uncaught exception, failed request and
 * CSP violation the page sees collected, so a test can assert there were none.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page, type Request } from 'playwright-core';

export const CHROMIUM = process.env.TEST_CHROMIUM_PATH || '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
export const NO_CHROMIUM = `no Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (or set TEST_CHROMIUM_PATH)`;
/** Screenshots (git-ignored). */
export const ARTIFACTS = fileURLToPath(new URL('../browser/artifacts/', import.meta.url));
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Requests to anywhere but this machine, which were aborted. */
  leftTheMachine: string[];
  /** Console errors, uncaught exceptions, failed requests and CSP violations the page saw. */
  problems: string[];
  close(): Promise<void>;
}

export async function openBrowser({ name, viewport, onLocalRequest }: { name: string; viewport: { width: number; height: number }; onLocalRequest?: (request: Request) => void }): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), `${name}-chromium-`));
  const leftTheMachine: string[] = [];
  const problems: string[] = [];
  let context: BrowserContext | undefined;
  try {
    // A persistent context is how playwright takes a fresh --user-data-dir.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport,
    });
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (/^(https?|wss?):$/.test(url.protocol) && !LOCAL_HOSTS.has(url.hostname)) {
        leftTheMachine.push(url.href);
        return route.abort('blockedbyclient');
      }
      onLocalRequest?.(route.request());
      return route.continue();
    });
    // Every CSP violation the document sees, reported before any of the page's own scripts run.
    await context.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (event) => {
        console.error('CSP violation: ' + event.effectiveDirective + ' blocked ' + (event.blockedURI || 'inline') + ' (' + event.sample + ')');
      });`,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
    page.on('requestfailed', (request) => {
      if (!leftTheMachine.includes(request.url())) problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`);
    });
    const opened = context;
    return {
      context: opened,
      page,
      leftTheMachine,
      problems,
      async close() {
        await opened.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}
