import type { Browser, Page } from 'puppeteer-core';
import type { ViteDevServer } from 'vite';
export declare const CHROMIUM_ARGS: string[];
export declare function chromiumPath(explicit?: string): string;
export declare function openPage(opts: { root: string; path: string; chrome?: string; extraArgs?: string[]; headless?: boolean }): Promise<{
  page: Page; browser: Browser; server: ViteDevServer; errors: string[]; port: number; close(): Promise<void>;
}>;
