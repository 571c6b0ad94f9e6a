import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export function hasChromium(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** Headless Chromium (Debian's package) with nothing that reaches the network on its own. */
export async function launchChromium(): Promise<Browser> {
  // Loaded here: playwright-core is a development dependency, and the CLI must start without it.
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Opens a local HTML file in headless Chromium (Debian's package, no network), lets `check` look at
 * the page, saves a full-page screenshot, and returns the console errors seen.
 */
export async function openInChromium(
  file: string,
  screenshot: string,
  check: (page: Page) => Promise<void> = async () => {},
): Promise<string[]> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url().slice(0, 80)}`));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await check(page);
    await page.screenshot({ path: screenshot, fullPage: true });
    return errors;
  } finally {
    await browser.close();
  }
}
