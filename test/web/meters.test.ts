/**
 * The meter pages in a real browser (Debian's Chromium through playwright-core) against the API on a real port,
 * serving the built dashboard, with meter rows stored directly: the meter list (paged, filtered by group), a
 * simulated meter's page with its badge, the Berlin day of 25 hours (100 quarter hours, estimated, substituted,
 * missing and provisional ones told apart), the month view with its exact total, back/forward, the group's load, and
 * a key limited to another group getting a clear message instead of a broken page.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { createApiKey, dashboardFiles } from '../../src/api/index.ts';
import type { Db } from '../../src/storage/index.ts';
import { ensurePartitions } from '../../src/storage/index.ts';
import { ADMIN, startTestApi } from '../helpers/api.ts';
import { chromiumPath } from '../helpers/services.ts';
import { RESULTS, ROOT, browserPages, run } from './dashboard-server.ts';

const UI_TIMEOUT_MS = 30_000;
const QUARTER = 900_000;
/** Berlin's 2026-10-25: summer time ends, the day has 25 hours (100 quarters) and starts 22:00 UTC the day before. */
const DST_DAY = Date.parse('2026-10-24T22:00:00Z');
/** Quarters of that day with another quality than measured; the 11th has no value at all. */
const ESTIMATED = 5;
const SUBSTITUTED = 20;
const MISSING = 10;
/** The meters job's watermark: quarters ending by then are final, the rest of the day provisional. */
const WATERMARK = DST_DAY + 60 * QUARTER;
/** Meters of feeder-a besides the simulated one: with feeder-b's two, more than a page of the list (50). */
const FEEDER_A_METERS = 54;

async function insertMeter(
  db: Db,
  m: { id: string; group: string; simulated?: boolean; capacity?: string; interval?: string },
): Promise<void> {
  await db.query(
    `INSERT INTO meters (meter_id, zone, group_id, time_zone, register_type, interval, annual_consumption_kwh, profile,
       register_capacity_kwh, simulated)
     VALUES ($1, 'DE_LU', $2, 'Europe/Berlin', 'import', $5, 3500, 'H0', $3::numeric, $4)`,
    [m.id, m.group, m.capacity ?? null, m.simulated ?? false, m.interval ?? 'PT15M'],
  );
}

/**
 * de-sim-1 (simulated, feeder-a): every quarter of 2026-10-25 holds 0.1 kWh but the missing one, one estimated and one
 * substituted; 2026-10-27 holds 0.25 kWh at noon. de-3 belongs to feeder-b. The watermark lies inside the DST day.
 */
async function seed(db: Db): Promise<void> {
  await insertMeter(db, { id: 'de-sim-1', group: 'feeder-a', simulated: true, capacity: '99999.9' });
  for (let i = 1; i <= FEEDER_A_METERS; i++)
    await insertMeter(db, { id: `fa-${String(i).padStart(3, '0')}`, group: 'feeder-a' });
  await insertMeter(db, { id: 'de-3', group: 'feeder-b' });
  await insertMeter(db, { id: 'de-hourly', group: 'feeder-b', interval: 'PT60M' });
  const rows: { ts: number; value: string; quality: string }[] = [];
  for (let i = 0; i < 100; i++) {
    if (i === MISSING) continue;
    const quality = i === ESTIMATED ? 'estimated' : i === SUBSTITUTED ? 'substituted' : 'measured';
    rows.push({ ts: DST_DAY + i * QUARTER, value: '0.1', quality });
  }
  rows.push({ ts: Date.parse('2026-10-27T11:00:00Z'), value: '0.25', quality: 'measured' });
  await ensurePartitions(db, 'meter_intervals', new Date(DST_DAY), new Date(DST_DAY + 4 * 86_400_000));
  await db.query(
    `INSERT INTO meter_intervals (meter_id, quantity, ts, interval_s, value, quality, source, group_id, log_topic,
       log_partition, log_offset)
     SELECT 'de-sim-1', 'energy_import', t, 900, v, q, 'interval', 'feeder-a', 'raw.meters', 0, n
     FROM unnest($1::timestamptz[], $2::numeric[], $3::text[]) WITH ORDINALITY AS x(t, v, q, n)`,
    [rows.map((r) => new Date(r.ts).toISOString()), rows.map((r) => r.value), rows.map((r) => r.quality)],
  );
  await db.query(
    `INSERT INTO meter_intervals (meter_id, quantity, ts, interval_s, value, quality, source, group_id, log_topic,
       log_partition, log_offset)
     VALUES ('de-hourly', 'energy_import', $1::timestamptz, 3600, 0.4, 'measured', 'interval', 'feeder-b', 'raw.meters',
       0, 1000)`,
    [new Date(DST_DAY).toISOString()],
  );
  // Its feed-in: one quarter of 0.3 kWh on the DST day.
  await db.query(
    `INSERT INTO meter_intervals (meter_id, quantity, ts, interval_s, value, quality, source, group_id, log_topic,
       log_partition, log_offset)
     VALUES ('de-sim-1', 'energy_export', $1::timestamptz, 900, 0.3, 'measured', 'interval', 'feeder-a', 'raw.meters',
       0, 2000)`,
    [new Date(DST_DAY + 40 * QUARTER).toISOString()],
  );
  // The day validated and settled: the quarters as above (the missing one pending), 100 EUR/MWh, 400 and 300 g/kWh.
  const day = Array.from({ length: 100 }, (_, i) => i);
  const quality = (i: number): string =>
    i === MISSING ? 'missing' : i === ESTIMATED ? 'estimated' : i === SUBSTITUTED ? 'substituted' : 'measured';
  await db.query(
    `INSERT INTO meter_validated (meter_id, quantity, ts, interval_s, local_day, value, quality, method, raw, rules,
       group_id)
     SELECT 'de-sim-1', 'energy_import', t, 900, '2026-10-25', CASE WHEN q = 'missing' THEN NULL ELSE 0.1 END, q,
       CASE q WHEN 'missing' THEN 'none' WHEN 'estimated' THEN 'linear' WHEN 'substituted' THEN 'edit'
         ELSE 'measured' END,
       CASE WHEN q = 'measured' THEN 0.1 ELSE NULL END,
       CASE WHEN q IN ('missing', 'estimated') THEN ARRAY['gap'] ELSE '{}' END, 'feeder-a'
     FROM unnest($1::timestamptz[], $2::text[]) AS x(t, q)`,
    [day.map((i) => new Date(DST_DAY + i * QUARTER).toISOString()), day.map(quality)],
  );
  await db.query(
    `INSERT INTO meter_settlement (meter_id, quantity, period, local_day, time_zone, group_id, bidding_zone, energy_kwh,
       quality, price, price_unit, currency, cost, intensity_lifecycle, intensity_direct, emissions_lifecycle_g,
       emissions_direct_g, status)
     SELECT 'de-sim-1', 'energy_import', t, '2026-10-25', 'Europe/Berlin', 'feeder-a', 'DE_LU', e, q, 100, 'EUR/MWh',
       'EUR', e * 0.1, 400, 300, e * 400, e * 300, CASE WHEN e IS NULL THEN 'pending' ELSE 'final' END
     FROM unnest($1::timestamptz[], $2::text[]) AS x(t, q), LATERAL (SELECT CASE WHEN q = 'missing' THEN NULL
       ELSE 0.1 END AS e) v`,
    [day.map((i) => new Date(DST_DAY + i * QUARTER).toISOString()), day.map(quality)],
  );
  await db.query(`INSERT INTO stream_jobs (job, watermark) VALUES ('meters', $1::timestamptz)`, [
    new Date(WATERMARK).toISOString(),
  ]);
}

/** The state a load card exposes. */
async function loadCard(page: Page, name: string): Promise<Record<string, string>> {
  return page
    .locator(`[data-card="${name}"]`)
    .evaluate((el: HTMLElement) => Object.fromEntries(Object.entries(el.dataset)) as Record<string, string>);
}

async function waitCard(page: Page, name: string, state = 'ready'): Promise<void> {
  await page.waitForFunction(
    ([n, s]) => document.querySelector<HTMLElement>(`[data-card="${n}"]`)?.dataset['state'] === s,
    [name, state],
    { timeout: UI_TIMEOUT_MS },
  );
}

/** Waits until the load panel shows `quantity` with its card loaded. */
async function waitQuantity(page: Page, quantity: string): Promise<void> {
  await page.waitForFunction(
    (q) => {
      const panel = document.querySelector<HTMLElement>('.load-panel');
      const card = document.querySelector<HTMLElement>('[data-card="meter-load"]');
      return panel?.dataset['quantity'] === q && card?.dataset['state'] === 'ready';
    },
    quantity,
    { timeout: UI_TIMEOUT_MS },
  );
}

/** Waits until the load panel shows `period` with its card loaded (not the previous period's). */
async function waitPeriod(page: Page, name: string, period: string, windows: number): Promise<void> {
  await page.waitForFunction(
    ([n, p, w]) => {
      const panel = document.querySelector<HTMLElement>('.load-panel');
      const card = document.querySelector<HTMLElement>(`[data-card="${n}"]`);
      return (
        panel?.dataset['period'] === p &&
        card?.dataset['period'] === p &&
        card.dataset['state'] !== 'loading' &&
        card.dataset['windows'] === w &&
        document.querySelectorAll('.load-details tbody tr').length === Number(w)
      );
    },
    [name, period, String(windows)] as const,
    { timeout: UI_TIMEOUT_MS },
  );
}

test(
  'meter pages: list, a simulated meter by day and month, a group, a key of another group',
  { timeout: 300_000 },
  async (t: TestContext) => {
    const executablePath = await chromiumPath(t);
    if (executablePath === undefined) return;
    const built = await run(process.execPath, ['scripts/build-web.ts', '--if-stale']);
    assert.equal(built.code, 0, `dashboard build failed:\n${built.output}`);
    const api = await startTestApi({ staticFiles: dashboardFiles(join(ROOT, 'web', 'dist')) });
    t.after(() => api.close());
    await seed(api.db);
    const feederB = (await createApiKey(api.db, { name: 'feeder b', role: 'reader', groups: ['feeder-b'] })).key;
    const base = `http://127.0.0.1:${api.server.port}`;

    const browser = await browserPages(t, { name: 'meters', base, executablePath });
    const open = (key: string): Promise<Page> => browser.open(`/#key=${key}`);
    const { pageErrors } = browser;

    const page = await open(ADMIN);

    await t.test('the Meters entry lists the meters a page at a time, filtered by group', async () => {
      await page.getByRole('link', { name: 'Meters', exact: true }).click();
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('[data-meter-list]')?.dataset['state'] === 'ready',
        undefined,
        {
          timeout: UI_TIMEOUT_MS,
        },
      );
      assert.equal(new URL(page.url()).pathname, '/meters');
      assert.equal(await page.locator('[data-meter-list] tbody tr').count(), 50);
      assert.equal(await page.locator('tr[data-meter="de-3"]').count(), 1);
      assert.equal(await page.locator('tr[data-meter="de-sim-1"] .simulated-badge').count(), 1);
      await page.screenshot({ path: join(RESULTS, 'meter-list.png') });
      await page.locator('[data-page="next"]').click();
      await page.waitForFunction(() => new URL(location.href).searchParams.get('after') === 'fa-047', undefined, {
        timeout: UI_TIMEOUT_MS,
      });
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('[data-meter-list]')?.dataset['count'] === '7',
        undefined,
        { timeout: UI_TIMEOUT_MS },
      );
      assert.ok(await page.locator('[data-page="next"]').isDisabled());
      await page.locator('[data-page="previous"]').click();
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('[data-meter-list]')?.dataset['count'] === '50',
      );

      await page.getByLabel('Group').fill('feeder-b');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('[data-meter-list]')?.dataset['count'] === '2',
      );
      assert.equal(new URL(page.url()).searchParams.get('group'), 'feeder-b');
      assert.deepEqual(
        await page
          .locator('[data-meter-list] tbody tr')
          .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset['meter'])),
        ['de-3', 'de-hourly'],
      );
    });

    await t.test("a meter typed by id opens its page: registry facts and a clear 'simulated' badge", async () => {
      await page.getByLabel('Meter id').fill('de-sim-1');
      await page.getByRole('button', { name: 'Open' }).click();
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('.meter-registry')?.dataset['state'] === 'ready',
        undefined,
        {
          timeout: UI_TIMEOUT_MS,
        },
      );
      assert.equal(new URL(page.url()).pathname, '/meters/de-sim-1');
      assert.equal(await page.locator('h1 .simulated-badge').textContent(), 'Simulated');
      assert.match(await page.locator('h1').innerText(), /Meter de-sim-1/);
      assert.match(await page.locator('.simulated-note').innerText(), /simulated demo fleet/);
      const facts = await page.locator('.meter-facts').innerText();
      assert.match(facts, /Europe\/Berlin/);
      assert.match(facts, /feeder-a/);
      assert.match(facts, /99,999\.9 kWh/);
    });

    await t.test(
      'the Berlin DST day: 25 hours of quarter hours, each quality visible, provisional marked',
      async () => {
        await page.goto(`${base}/meters/de-sim-1?date=2026-10-25`);
        await waitPeriod(page, 'meter-load', '2026-10-25', 100);
        const card = await loadCard(page, 'meter-load');
        assert.equal(card['state'], 'ready');
        assert.equal(card['expected'], '100');
        assert.equal(card['missing'], '1');
        assert.equal(card['provisional'], String(100 - 60));
        // 99 quarters of 0.1 kWh, exactly.
        assert.equal(card['total'], '9.9');
        // The chart: final line, provisional line, markers of estimated, substituted and missing quarters.
        assert.equal(card['series'], '5');
        const legend = await page.locator('[data-card="meter-load"] .u-legend').innerText();
        for (const label of ['Energy', 'Provisional', 'Estimated', 'Substituted', 'Missing'])
          assert.match(legend, new RegExp(label));
        const rows = page.locator('.load-details tbody tr');
        const qualities = await rows.evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset['quality']));
        assert.equal(qualities[ESTIMATED], 'estimated');
        assert.equal(qualities[SUBSTITUTED], 'substituted');
        assert.equal(qualities[MISSING], 'missing');
        assert.equal(qualities.filter((q) => q === 'measured').length, 97);
        const finals = await rows.evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset['final']));
        assert.equal(finals.filter((f) => f === 'true').length, 60);
        // The hour 02:00–03:00 comes twice (summer time, then winter time) in the meter's time zone.
        const times = await rows.evaluateAll((trs) => trs.map((tr) => tr.querySelector('td')?.textContent ?? ''));
        assert.equal(times.filter((text) => text.includes('02:00')).length, 2, times.join(' | '));
        assert.match(times[0] ?? '', /00:00/);
        assert.match(times[99] ?? '', /23:45/);
        assert.match(await page.locator('.quality-summary').innerText(), /1 estimated, 1 substituted, 1 missing/);
        await page.screenshot({ path: join(RESULTS, 'meter-day.png'), fullPage: true });
      },
    );

    await t.test("the day's data quality and settlement: shares, failed rules, rounded totals, pending", async () => {
      await page.waitForFunction(
        () =>
          ['quality', 'settlement'].every((c) =>
            ['ready', 'error'].includes(
              document.querySelector<HTMLElement>(`[data-card="${c}"]`)?.dataset['state'] ?? '',
            ),
          ),
        undefined,
        { timeout: UI_TIMEOUT_MS },
      );
      const quality = page.locator('[data-card="quality"]');
      assert.equal(await quality.getAttribute('data-state'), 'ready');
      assert.equal(await quality.getAttribute('data-intervals'), '100');
      const qualityText = await quality.innerText();
      assert.match(qualityText, /measured\s+97/);
      assert.match(qualityText, /missing\s+1/);
      assert.match(qualityText, /gap\s+2/);
      const settlement = page.locator('[data-card="settlement"]');
      assert.equal(await settlement.getAttribute('data-state'), 'ready');
      assert.equal(await settlement.getAttribute('data-status'), 'pending');
      const text = await settlement.innerText();
      // 99 quarters of 0.1 kWh at 100 EUR/MWh: 0.99 EUR; 3 960 g lifecycle, 2 970 g direct.
      assert.match(text, /9\.9 kWh/);
      assert.match(text, /0\.99 EUR/);
      assert.match(text, /3,960 \/ 2,970 gCO2eq/);
      assert.match(text, /Pending/);
    });

    await t.test('export: the fed-in energy of the same day, in the address; import again', async () => {
      await page.getByRole('radio', { name: 'Export' }).check();
      await waitQuantity(page, 'energy_export');
      assert.equal(new URL(page.url()).searchParams.get('quantity'), 'energy_export');
      assert.equal((await loadCard(page, 'meter-load'))['total'], '0.3');
      await page.goBack();
      await waitQuantity(page, 'energy_import');
      assert.equal((await loadCard(page, 'meter-load'))['total'], '9.9');
      assert.equal(await page.getByRole('radio', { name: 'Import' }).isChecked(), true);
    });

    await t.test('the month view: a bar per day and the exact total; stepping and back', async () => {
      await page.getByRole('radio', { name: 'Month' }).check();
      await waitPeriod(page, 'meter-load', '2026-10', 31);
      assert.equal(new URL(page.url()).searchParams.get('month'), '2026-10');
      const card = await loadCard(page, 'meter-load');
      assert.equal(card['total'], '10.15');
      // Days without any value; the 25th and the 27th have values (with quarters missing: incomplete).
      assert.equal(card['missing'], String(31 - 2));
      const days = await page
        .locator('.load-details tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => [
            tr.querySelectorAll('td')[1]?.textContent ?? '',
            tr.querySelectorAll('td')[2]?.textContent ?? '',
          ]),
        );
      assert.deepEqual(days[24], ['9.9', 'incomplete']);
      assert.deepEqual(days[25], ['–', 'missing']);
      assert.deepEqual(days[26], ['0.25', 'incomplete']);
      // The days from the 25th on end after the watermark: provisional bars.
      assert.equal(card['provisional'], String(31 - 24));
      assert.match(await page.locator('[data-card="meter-load"] .u-legend').innerText(), /Provisional/);
      assert.match(await page.locator('.load-total').innerText(), /10\.15 kWh/);
      await page.screenshot({ path: join(RESULTS, 'meter-month.png'), fullPage: true });
      await page.getByRole('button', { name: 'Next period' }).click();
      await waitPeriod(page, 'meter-load', '2026-11', 30);
      await page.goBack();
      await waitPeriod(page, 'meter-load', '2026-10', 31);
    });

    await t.test('a meter reporting hourly is shown by the hour: 25 on the DST day', async () => {
      await page.goto(`${base}/meters/de-hourly?date=2026-10-25`);
      await waitPeriod(page, 'meter-load', '2026-10-25', 25);
      const card = await loadCard(page, 'meter-load');
      assert.equal(card['state'], 'ready');
      assert.equal(card['expected'], '25');
      assert.equal(card['total'], '0.4');
      assert.equal(card['missing'], '24');
    });

    await t.test("the group link shows the group's load with the values summed per window", async () => {
      await page.goto(`${base}/meters/de-sim-1?date=2026-10-25`);
      await page.locator('.meter-facts a', { hasText: 'feeder-a' }).click();
      await page.waitForFunction(
        () =>
          !['loading', undefined].includes(
            document.querySelector<HTMLElement>('[data-card="group-load"]')?.dataset['state'],
          ),
        undefined,
        { timeout: UI_TIMEOUT_MS },
      );
      assert.equal(new URL(page.url()).pathname, '/groups/feeder-a');
      await page.goto(`${base}/groups/feeder-a?date=2026-10-25`);
      await waitPeriod(page, 'group-load', '2026-10-25', 100);
      const card = await loadCard(page, 'group-load');
      assert.equal(card['total'], '9.9');
      const headers = await page.locator('.load-details thead th').allTextContents();
      assert.ok(headers.includes('Values summed'), headers.join(', '));
    });

    await t.test(
      'a key of another group gets a clear message for this meter and group, not a broken page',
      async () => {
        const other = await open(feederB);
        await other.goto(`${base}/meters/de-sim-1?date=2026-10-25`);
        await other.waitForFunction(
          () => document.querySelector<HTMLElement>('.meter-registry')?.dataset['state'] === 'error',
          undefined,
          {
            timeout: UI_TIMEOUT_MS,
          },
        );
        assert.match(
          await other.locator('.meter-registry [role="alert"]').innerText(),
          /not found, or this API key may not read it/,
        );
        await waitCard(other, 'meter-load', 'error');
        await other.goto(`${base}/groups/feeder-a`);
        await waitCard(other, 'group-load', 'error');
        assert.match(
          await other.locator('[data-card="group-load"] [role="alert"]').innerText(),
          /group feeder-a was not found, or this API key may not read it/,
        );
        // Its own meter reads fine.
        await other.goto(`${base}/meters`);
        await other.waitForFunction(
          () => document.querySelector<HTMLElement>('[data-meter-list]')?.dataset['count'] === '2',
          undefined,
          {
            timeout: UI_TIMEOUT_MS,
          },
        );
      },
    );

    await t.test('on a phone the meter page fits the screen width', async () => {
      const phone = await browser.open(`/meters/de-sim-1?date=2026-10-25#key=${ADMIN}`, { width: 390, height: 844 });
      await waitPeriod(phone, 'meter-load', '2026-10-25', 100);
      await phone.screenshot({ path: join(RESULTS, 'meter-phone.png'), fullPage: true });
      const { scrollWidth, innerWidth } = await phone.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
      }));
      assert.ok(scrollWidth <= innerWidth, `the page is ${scrollWidth} px wide on a ${innerWidth} px screen`);
    });

    await t.test('no uncaught error in the pages', () => {
      assert.deepEqual(pageErrors, []);
    });
  },
);
