/**
 * The meter pages against `gridstream start` in embedded mode with its labelled simulated fleet (a small one here):
 * the fleet's meters are listed with the "Simulated" badge, and a meter's yesterday — fed through raw.meters and
 * the meters role, not inserted by the test — is drawn from the API. Waits on the data are generous (the fleet
 * catches up two days on start, on a shared machine); nothing is timed.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { periodWindows } from '../../web/src/meter-period.ts';
import { addDays, localDate } from '../../web/src/time-range.ts';
import { chromiumPath } from '../helpers/services.ts';
import { ADMIN_KEY, RESULTS, newContext, startDashboardServer, watch, closeContext } from './dashboard-server.ts';

const DATA_TIMEOUT_MS = 240_000;
const UI_TIMEOUT_MS = 30_000;

/** Asks `read` every second until it returns a value (not undefined), or fails after `timeoutMs`. */
async function poll<T>(what: string, timeoutMs: number, read: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: nothing within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function apiJson(base: string, path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}

test('meter pages on the embedded simulated fleet', { timeout: 600_000 }, async (t: TestContext) => {
  const executablePath = await chromiumPath(t);
  if (executablePath === undefined) return;
  const server = await startDashboardServer(t, 'gridstream-meters', { GRIDSTREAM_SIMULATED_METERS: '12' });
  const { base } = server;
  await mkdir(RESULTS, { recursive: true });
  const contexts: BrowserContext[] = [];
  const browserLog: string[] = [];
  const pageErrors: string[] = [];
  t.after(async () => {
    for (const c of contexts) await closeContext(c);
    await writeFile(join(RESULTS, 'meters-embedded-browser.log'), browserLog.join('\n'));
  });

  const meter = await poll('a registered simulated meter', DATA_TIMEOUT_MS, async () => {
    const body = await apiJson(base, '/api/v1/meters?limit=1');
    const first = (body['meters'] as Record<string, unknown>[] | undefined)?.[0];
    return first === undefined
      ? undefined
      : { id: String(first['meter_id']), timeZone: String(first['time_zone']), group: String(first['group']) };
  });
  const yesterday = addDays(localDate(Date.now(), meter.timeZone), -1);
  const values = await poll(`values of ${meter.id} on ${yesterday}`, DATA_TIMEOUT_MS, async () => {
    const body = await apiJson(
      base,
      `/api/v1/meters/${meter.id}/readings?from=${yesterday}&to=${addDays(yesterday, 1)}&resolution=PT15M`,
    );
    const points = body['points'] as { value: string | null }[];
    const n = points.filter((p) => p.value !== null).length;
    return n > 0 ? n : undefined;
  });
  t.diagnostic(`${meter.id}: ${values} quarter hours with a value on ${yesterday} when the page was opened`);

  const context = await newContext(executablePath, server.dir, { locale: 'en-GB' });
  contexts.push(context);
  const page: Page = context.pages()[0] ?? (await context.newPage());
  watch(page, browserLog, pageErrors);

  await t.test("the fleet is listed, every meter with the 'Simulated' badge", async () => {
    await page.goto(`${base}/meters#key=${ADMIN_KEY}`);
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('[data-meter-list]')?.dataset['state'] === 'ready',
      undefined,
      { timeout: UI_TIMEOUT_MS },
    );
    const rows = await page.locator('[data-meter-list] tbody tr').count();
    assert.equal(rows, 12);
    assert.equal(await page.locator('[data-meter-list] tbody tr .simulated-badge').count(), rows);
  });

  await t.test("a meter's page: the badge, and yesterday's quarter hours from the pipeline", async () => {
    await page.locator(`tr[data-meter="${meter.id}"] a`).first().click();
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('.meter-registry')?.dataset['state'] === 'ready',
      undefined,
      { timeout: UI_TIMEOUT_MS },
    );
    assert.equal(await page.locator('.meter-registry').getAttribute('data-simulated'), 'true');
    assert.equal(await page.locator('h1 .simulated-badge').textContent(), 'Simulated');
    await page.getByRole('button', { name: 'Previous period' }).click();
    await page.waitForFunction(
      (date) => {
        const card = document.querySelector<HTMLElement>('[data-card="meter-load"]');
        return card?.dataset['period'] === date && card.dataset['state'] === 'ready';
      },
      yesterday,
      { timeout: UI_TIMEOUT_MS },
    );
    const card = await page
      .locator('[data-card="meter-load"]')
      .evaluate((el: HTMLElement) => Object.fromEntries(Object.entries(el.dataset)) as Record<string, string>);
    const expected = periodWindows({ view: 'day', date: yesterday }, meter.timeZone);
    assert.equal(card['windows'], String(expected));
    assert.ok(Number(card['missing']) < expected, `${card['missing']} of ${expected} quarter hours missing`);
    assert.match(card['total'] ?? '', /^\d+(\.\d+)?$/);
    await page.screenshot({ path: join(RESULTS, 'meter-simulated.png'), fullPage: true });
  });

  await t.test("the meter's group shows its load", async () => {
    await page.locator('.meter-facts a', { hasText: meter.group }).click();
    await page.waitForFunction(
      () => {
        const state = document.querySelector<HTMLElement>('[data-card="group-load"]')?.dataset['state'];
        return state === 'ready' || state === 'empty' || state === 'error';
      },
      undefined,
      { timeout: UI_TIMEOUT_MS },
    );
    assert.notEqual(await page.locator('[data-card="group-load"]').getAttribute('data-state'), 'error');
  });

  await t.test('no uncaught error in the pages', () => {
    assert.deepEqual(pageErrors, []);
  });
});
