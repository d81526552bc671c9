// Debian's chromium driven by playwright-core (no downloaded browser build), for the console's
// browser tests. When chromium is not installed the tests skip with the reason; .ci/run
// installs it through apt.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM = process.env.MIGFHIR_CHROMIUM ?? '/usr/bin/chromium';
export const NO_CHROMIUM = existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (or set MIGFHIR_CHROMIUM)`;

/** Where the tests save screenshots (test-artifacts/console, not committed). */
export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'console');

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  mkdirSync(ARTIFACTS, { recursive: true });
  // as root (CI containers) chromium refuses to start inside its sandbox; containers often
  // have a small /dev/shm
  const args = ['--disable-dev-shm-usage', ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])];
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
