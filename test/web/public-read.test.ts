/**
 * The dashboard of a server started with `GRIDSTREAM_PUBLIC_READ=true` (anonymous callers read /api/v1 as readers),
 * in a real browser: it opens without a key, its API calls and live stream carry none, and a key can still be given
 * (and dropped again) for the operator pages.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { chromiumPath } from '../helpers/services.ts';
import { ADMIN_KEY, RESULTS, newContext, startDashboardServer, watch, closeContext } from './dashboard-server.ts';

/** The replay stores its first documents within seconds, on a shared 2-core box maybe much later. */
const DATA_TIMEOUT_MS = 120_000;

test('dashboard with GRIDSTREAM_PUBLIC_READ=true: open without a key', { timeout: 300_000 }, async (t: TestContext) => {
  const executablePath = await chromiumPath(t);
  if (executablePath === undefined) return;
  const server = await startDashboardServer(t, 'gridstream-public-read', { GRIDSTREAM_PUBLIC_READ: 'true' });
  const { base } = server;
  const contexts: BrowserContext[] = [];
  const browserLog: string[] = [];
  const pageErrors: string[] = [];
  t.after(async () => {
    for (const c of contexts) await closeContext(c);
    await writeFile(join(RESULTS, 'browser-public-read.log'), browserLog.join('\n'));
  });

  await t.test('the API answers an anonymous reader, and refuses it the operator endpoints', async () => {
    const me = await fetch(`${base}/api/v1/me`);
    assert.equal(me.status, 200);
    assert.deepEqual(await me.json(), { key_id: null, name: 'anonymous', role: 'reader', zones: null });
    assert.equal((await fetch(`${base}/api/v1/admin/dlq`)).status, 401);
  });

  const context = await newContext(executablePath, server.dir);
  contexts.push(context);
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page, browserLog, pageErrors);
  page.setDefaultTimeout(30_000);
  const keyedApiCalls: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/api/') && request.headers()['authorization'] !== undefined)
      keyedApiCalls.push(url.pathname);
  });

  await t.test('the dashboard opens without a key: zones, charts and the live stream, no sign-in form', async () => {
    await page.goto(`${base}/`);
    await page.waitForFunction(
      () => Number(document.querySelector<HTMLElement>('#main select')?.dataset['zones'] ?? '0') > 0,
      undefined,
      { timeout: DATA_TIMEOUT_MS },
    );
    assert.equal(await page.getByLabel('API key').count(), 0, 'no sign-in form');
    assert.equal(await page.evaluate(() => localStorage.getItem('gridstream.apiKey')), null);
    // Luxembourg's only replayed document is its generation: the page fills in by itself once it is stored.
    await page.goto(`${base}/?zone=LU`);
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('[data-card="generation"]')?.dataset['state'] === 'ready',
      undefined,
      { timeout: DATA_TIMEOUT_MS },
    );
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('.live-badge')?.dataset['liveState'] === 'live',
    );
    await page.waitForFunction(() => document.documentElement.dataset['role'] === 'reader');
    assert.equal(await page.getByRole('link', { name: 'Operations' }).isVisible(), false);
    assert.equal(await page.getByRole('button', { name: 'Sign in' }).isVisible(), true, 'a way to give a key');
    assert.deepEqual(keyedApiCalls, [], 'no API call carried a key');
    await page.screenshot({ path: join(RESULTS, 'public-read.png'), fullPage: true });
  });

  await t.test('“Sign in” takes a key for the operator pages; signing out offers to go on without one', async () => {
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('API key').fill(ADMIN_KEY);
    await page.locator('form.sign-in').getByRole('button', { name: 'Sign in' }).click();
    await page.waitForFunction(() => document.documentElement.dataset['role'] === 'admin');
    assert.equal(await page.getByRole('link', { name: 'Operations' }).isVisible(), true);
    assert.equal(await page.evaluate(() => localStorage.getItem('gridstream.apiKey')), ADMIN_KEY);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Continue without a key' }).waitFor();
    await page.screenshot({ path: join(RESULTS, 'public-read-sign-in.png') });
    await page.getByRole('button', { name: 'Continue without a key' }).click();
    await page.waitForFunction(() => document.documentElement.dataset['role'] === 'reader');
    assert.equal(await page.evaluate(() => localStorage.getItem('gridstream.apiKey')), null);
  });

  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});
