// useBrowser(): a page in headless Chromium (scripts/chromium.mjs) with the engine loaded from
// tests/browser/index.html; run(name, args) calls a case from tests/browser/cases/ and returns its data.
import { afterAll, beforeAll, expect } from 'vitest';
import { writeUsage } from './kernel-usage.ts';
import { resolve } from 'node:path';
import type { Page } from 'puppeteer-core';
import { openPage } from '../../scripts/chromium.mjs';

export interface BrowserContext {
  page: Page;
  adapter: string;
  run<T = unknown>(name: string, args?: unknown): Promise<T>;
}

export function useBrowser(path = '/tests/browser/index.html'): BrowserContext {
  const ctx = {} as BrowserContext;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const s = await openPage({ root: resolve(import.meta.dirname, '../..'), path });
    close = s.close;
    ctx.page = s.page;
    const ready = await s.page.evaluate(() => window.softdiffReady).catch((e: unknown) => {
      throw new Error(`engine failed to start in Chromium: ${e}; page errors: ${s.errors.join('; ')}`);
    });
    ctx.adapter = ready.adapter;
    ctx.run = <T>(name: string, args?: unknown) => s.page.evaluate((n, a) => window.softdiffRun(n, a), name, args as never) as Promise<T>;
  }, 120_000);
  afterAll(async () => {
    if (ctx.page) {
      const report = await ctx.page.evaluate(() => window.softdiffUsage()).catch(() => null);
      if (report) writeUsage(expect.getState().testPath, 'browser', ctx.adapter, report);
    }
    await close?.();
  });
  return ctx;
}
