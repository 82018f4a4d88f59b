/**
 * The alerts page in a real browser (Debian's Chromium through playwright-core) against the API on a real port
 * (embedded PGlite), serving the built dashboard, with alert rows stored directly: the list (severity in words,
 * detectors in words, a meter alert linking to its meter), the count of open alerts in the navigation, the filter in
 * the address, an alert's evidence and transitions, Acknowledge changing the stored row, transitions written by the
 * alert store arriving live (a new alert inserted, another resolved) without a reload, a reader key that gets no
 * buttons, the API's 403 explained in the row (an operator key downgraded while its page is open), and the expected
 * publication of a zone.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { DEFAULT_ALERT_RULES, alertRulesOf, applySignals, operatorTransition } from '../../src/alerts/index.ts';
import { createApiKey, dashboardFiles } from '../../src/api/index.ts';
import type { Db } from '../../src/storage/index.ts';
import { ADMIN, startTestApi } from '../helpers/api.ts';
import { chromiumPath } from '../helpers/services.ts';
import { RESULTS, ROOT, browserPages, run } from './dashboard-server.ts';

const UI_TIMEOUT_MS = 30_000;

interface SeedAlert {
  readonly detector: string;
  readonly subject: string;
  readonly severity: 'info' | 'warning' | 'critical';
  readonly state: 'open' | 'acknowledged' | 'resolved';
  readonly zone: string | null;
  readonly group?: string;
  readonly meter?: string;
  readonly message: string;
  readonly values: Readonly<Record<string, number | string | null>>;
  readonly from: string;
  readonly to: string;
}

/** Stores an alert and its `opened` transition; returns its id. */
async function insertAlert(db: Db, a: SeedAlert): Promise<string> {
  const evidence = JSON.stringify({ window: { from: a.from, to: a.to }, values: a.values });
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO alerts (key, detector, subject, reason, severity, state, zone, group_id, meter_id, message, evidence,
       first_seen, last_seen, occurrences, acknowledged_at, acknowledged_by, resolved_at, resolved_by)
     VALUES ($1 || '|' || $2, $1, $2, 'alerts.' || $1, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::timestamptz,
       $11::timestamptz, 1,
       CASE WHEN $4 = 'acknowledged' THEN now() END, CASE WHEN $4 = 'acknowledged' THEN 'night shift' END,
       CASE WHEN $4 = 'resolved' THEN now() END, CASE WHEN $4 = 'resolved' THEN 'detector' END)
     RETURNING id::text`,
    [
      a.detector,
      a.subject,
      a.severity,
      a.state,
      a.zone,
      a.group ?? null,
      a.meter ?? null,
      a.message,
      evidence,
      a.from,
      a.to,
    ],
  );
  const id = rows[0]?.id;
  assert.ok(id !== undefined);
  await db.query(`INSERT INTO alert_events (alert_id, transition, at, payload) VALUES ($1, 'opened', $2, '{}')`, [
    id,
    a.to,
  ]);
  return id;
}

async function seed(db: Db): Promise<{ meter: string; grid: string; info: string; resolved: string }> {
  const meter = await insertAlert(db, {
    detector: 'meter_reverse_flow',
    subject: 'de-7',
    severity: 'warning',
    state: 'open',
    zone: 'DE_LU',
    group: 'feeder-a',
    meter: 'de-7',
    message: 'Meter de-7 fed 2.5 kWh back on an import register',
    values: { export_kwh: 2.5, threshold_kwh: 0.5 },
    from: '2026-06-01T10:00:00.000Z',
    to: '2026-06-01T11:00:00.000Z',
  });
  const grid = await insertAlert(db, {
    detector: 'forecast_deviation',
    subject: 'entsoe|load_actual|FI|PT60M',
    severity: 'critical',
    state: 'open',
    zone: 'FI',
    message: 'FI load 9100 MW against a day-ahead forecast of 7600 MW',
    values: { actual_mw: 9100, forecast_mw: 7600, deviation_sigma: 6.2 },
    from: '2023-05-08T06:00:00.000Z',
    to: '2023-05-08T09:00:00.000Z',
  });
  const info = await insertAlert(db, {
    detector: 'carbon_out_of_range',
    subject: 'carbon|NL',
    severity: 'info',
    state: 'acknowledged',
    zone: 'NL',
    message: 'NL carbon intensity 612 g/kWh, far from its usual range',
    values: { intensity: 612, median: 380 },
    from: '2016-03-27T00:00:00.000Z',
    to: '2016-03-27T02:00:00.000Z',
  });
  const resolved = await insertAlert(db, {
    detector: 'price_extreme',
    subject: 'price|NL',
    severity: 'warning',
    state: 'resolved',
    zone: 'NL',
    message: 'NL day-ahead price 720 EUR/MWh',
    values: { price: 720 },
    from: '2016-03-27T05:00:00.000Z',
    to: '2016-03-27T06:00:00.000Z',
  });
  return { meter, grid, info, resolved };
}

/** The ids of the rows shown, in order, once the list is loaded. */
async function rowIds(page: Page): Promise<string[]> {
  return page
    .locator('[data-alert-list] tbody tr')
    .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset['alert'] ?? ''));
}

async function waitList(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const list = document.querySelector<HTMLElement>('[data-alert-list]');
      return list?.getAttribute('aria-busy') === 'false' && list.dataset['count'] === String(n);
    },
    count,
    { timeout: UI_TIMEOUT_MS },
  );
}

async function waitRowState(page: Page, id: string, state: string): Promise<void> {
  await page.waitForFunction(
    ([i, s]) => document.querySelector<HTMLElement>(`tr[data-alert="${i}"]`)?.dataset['state'] === s,
    [id, state] as const,
    { timeout: UI_TIMEOUT_MS },
  );
}

async function waitOpenCount(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (n) => document.querySelector<HTMLElement>('[data-open-alerts]')?.dataset['openAlerts'] === String(n),
    count,
    { timeout: UI_TIMEOUT_MS },
  );
}

test(
  'alerts page: list, filter, evidence, acknowledge, live transitions, a reader key',
  { timeout: 300_000 },
  async (t: TestContext) => {
    const executablePath = await chromiumPath(t);
    if (executablePath === undefined) return;
    const built = await run(process.execPath, ['scripts/build-web.ts', '--if-stale']);
    assert.equal(built.code, 0, `dashboard build failed:\n${built.output}`);
    const api = await startTestApi({
      staticFiles: dashboardFiles(join(ROOT, 'web', 'dist')),
      // The test data is years old, so nothing is learnt from arrivals: FI's series are expected by a rule instead.
      alertRules: alertRulesOf({ publication: [{ zone: 'FI', delay: 'PT2H' }] }),
    });
    t.after(() => api.close());
    const ids = await seed(api.db);
    let fresh = '';
    const reader = (await createApiKey(api.db, { name: 'alerts reader', role: 'reader' })).key;
    const base = `http://127.0.0.1:${api.server.port}`;

    const browser = await browserPages(t, { name: 'alerts', base, executablePath });
    const open = (key: string): Promise<Page> => browser.open(`/#key=${key}`);
    const { pageErrors } = browser;

    const page = await open(ADMIN);

    await t.test(
      'the Alerts entry of the navigation counts the open alerts and lists open and acknowledged ones',
      async () => {
        await waitOpenCount(page, 2);
        assert.equal(await page.locator('[data-open-alerts]').innerText(), '2');
        await page.locator('nav a[href="/alerts"]').click();
        await waitList(page, 3);
        assert.equal(new URL(page.url()).pathname, '/alerts');
        assert.deepEqual(new Set(await rowIds(page)), new Set([ids.meter, ids.grid, ids.info]));
        const grid = page.locator(`tr[data-alert="${ids.grid}"]`);
        assert.match(await grid.locator('.severity-badge').innerText(), /Critical/);
        assert.match(await grid.innerText(), /Forecast deviation/);
        assert.match(await grid.innerText(), /Zone FI/);
        const meter = page.locator(`tr[data-alert="${ids.meter}"]`);
        assert.match(await meter.locator('.severity-badge').innerText(), /Warning/);
        assert.match(await meter.innerText(), /Reverse flow/);
        assert.match(await meter.innerText(), /Group feeder-a/);
        assert.equal(await meter.locator('a.alert-meter-link').getAttribute('href'), '/meters/de-7');
        const info = page.locator(`tr[data-alert="${ids.info}"]`);
        assert.match(await info.locator('.severity-badge').innerText(), /Info/);
        assert.match(await info.locator('.state-badge').innerText(), /Acknowledged/);
        assert.match(await page.locator('.publication-panel h2').innerText(), /Expected publication/);
        await page.screenshot({ path: join(RESULTS, 'alerts-list.png'), fullPage: true });
      },
    );

    await t.test('the severity filter narrows the list and is kept in the address', async () => {
      await page.getByLabel('Severity').selectOption('critical');
      await waitList(page, 1);
      assert.equal(new URL(page.url()).searchParams.get('severity'), 'critical');
      assert.deepEqual(await rowIds(page), [ids.grid]);
      await page.getByLabel('Severity').selectOption('info');
      await waitList(page, 1);
      assert.deepEqual(await rowIds(page), [ids.info]);
      await page.goBack();
      await waitList(page, 1);
      assert.deepEqual(await rowIds(page), [ids.grid]);
      assert.equal(await page.getByLabel('Severity').inputValue(), 'critical');
    });

    await t.test('clicking a row shows its evidence and transitions', async () => {
      await page.locator(`tr[data-alert="${ids.grid}"] .alert-message`).click();
      await page.waitForFunction(
        (id) => {
          const d = document.querySelector<HTMLElement>('[data-alert-detail]');
          return d?.dataset['state'] === 'ready' && d.dataset['alert'] === id;
        },
        ids.grid,
        { timeout: UI_TIMEOUT_MS },
      );
      const detail = await page.locator('[data-alert-detail]').innerText();
      assert.match(detail, /deviation_sigma/);
      assert.match(detail, /6\.2/);
      assert.match(detail, /actual_mw/);
      assert.match(detail, /9,100/);
      assert.match(detail, /Evidence window/);
      assert.match(detail, /8 May 2023/);
      assert.match(await page.locator('[data-alert-detail] .alert-history').innerText(), /Opened/);
    });

    await t.test('Acknowledge changes the row and the stored alert', async () => {
      const before = await api.db.query<{ state: string }>(`SELECT state FROM alerts WHERE id = $1`, [ids.grid]);
      assert.equal(before.rows[0]?.state, 'open');
      await page.locator(`tr[data-alert="${ids.grid}"] [data-action="acknowledge"]`).click();
      await waitRowState(page, ids.grid, 'acknowledged');
      assert.match(await page.locator(`tr[data-alert="${ids.grid}"] .state-badge`).innerText(), /Acknowledged/);
      assert.equal(await page.locator(`tr[data-alert="${ids.grid}"] [data-action="acknowledge"]`).count(), 0);
      assert.equal(await page.locator(`tr[data-alert="${ids.grid}"] [data-action="resolve"]`).count(), 1);
      const after = await api.db.query<{ state: string; acknowledged_by: string | null }>(
        `SELECT state, acknowledged_by FROM alerts WHERE id = $1`,
        [ids.grid],
      );
      assert.equal(after.rows[0]?.state, 'acknowledged');
      assert.match(after.rows[0].acknowledged_by ?? '', /^key:/);
      // The open details follow: the new transition is listed.
      await page.waitForFunction(
        () => /Acknowledged/.test(document.querySelector('[data-alert-detail] .alert-history')?.textContent ?? ''),
        undefined,
        { timeout: UI_TIMEOUT_MS },
      );
      await waitOpenCount(page, 1);
    });

    await t.test('transitions written by the alert store arrive live, without a reload', async () => {
      await page.getByLabel('Severity').selectOption('');
      await waitList(page, 3);
      await page.evaluate(() => {
        (window as unknown as { alertsMarker: string }).alertsMarker = 'same document';
      });
      const from = Date.parse('2023-05-08T12:00:00Z');
      await api.db.transaction((tx) =>
        applySignals(tx, DEFAULT_ALERT_RULES, [
          {
            detector: 'price_negative',
            subject: 'price|FI|live-test',
            active: true,
            from,
            to: from + 3_600_000,
            severity: 'info',
            zone: 'FI',
            group: null,
            meter: null,
            message: 'FI day-ahead price -12 EUR/MWh',
            values: { price: -12 },
          },
        ]),
      );
      const created = await api.db.query<{ id: string }>(
        `SELECT id::text FROM alerts WHERE detector = 'price_negative' AND state = 'open'`,
      );
      fresh = created.rows[0]?.id ?? '';
      assert.notEqual(fresh, '', 'applySignals opened an alert');
      await waitList(page, 4);
      assert.equal((await rowIds(page))[0], fresh, 'the new alert is inserted at the top');
      assert.match(await page.locator(`tr[data-alert="${fresh}"]`).innerText(), /Negative price/);
      // Marked as inserted by the live path (a reload of the list draws no such mark).
      assert.equal(await page.locator(`tr[data-alert="${fresh}"].alert-row-new`).count(), 1);
      await waitOpenCount(page, 2);

      await api.db.transaction((tx) =>
        operatorTransition(tx, { zones: null, groups: null }, ids.meter, 'resolved', 'key:night-shift'),
      );
      await waitRowState(page, ids.meter, 'resolved');
      assert.match(await page.locator(`tr[data-alert="${ids.meter}"] .state-badge`).innerText(), /Resolved/);
      await waitOpenCount(page, 1);
      assert.equal(
        await page.evaluate(() => (window as unknown as { alertsMarker: string | undefined }).alertsMarker),
        'same document',
      );
      await page.screenshot({ path: join(RESULTS, 'alerts-live.png'), fullPage: true });
    });

    await t.test('a reader key sees the alerts but no Acknowledge or Resolve', async () => {
      const tab = await open(reader);
      await tab.locator('nav a[href="/alerts"]').click();
      // The open ones (the new price alert) and the acknowledged ones (FI forecast, NL carbon).
      await waitList(tab, 3);
      assert.equal(await tab.locator('[data-alert-list] tbody tr').count(), 3);
      // The role was probed (a failed probe would also leave the buttons out).
      await tab.waitForFunction(() => document.documentElement.dataset['role'] === 'reader', undefined, {
        timeout: UI_TIMEOUT_MS,
      });
      assert.equal(await tab.locator('[data-action]').count(), 0);
      assert.equal(await tab.locator('[data-alert-list] th', { hasText: 'Actions' }).count(), 0);
      // The admin's page, loaded the same way, has them: the check above is not vacuous.
      assert.ok((await page.locator('[data-alert-list] [data-action]').count()) > 0);
    });

    await t.test('an operator key downgraded to reader while the page is open gets the 403 explained', async () => {
      const tab = await open(api.operator);
      await tab.locator('nav a[href="/alerts"]').click();
      await waitList(tab, 3);
      await tab.waitForFunction(() => document.documentElement.dataset['role'] === 'operator', undefined, {
        timeout: UI_TIMEOUT_MS,
      });
      const button = tab.locator(`tr[data-alert="${fresh}"] [data-action="acknowledge"]`);
      assert.equal(await button.count(), 1);
      await api.db.query(`UPDATE api_keys SET role = 'reader' WHERE name = 'ops'`);
      // The server caches keys for a few seconds: wait until it answers with the new role.
      const deadline = Date.now() + UI_TIMEOUT_MS;
      for (;;) {
        const me = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${api.operator}` } });
        if (((await me.json()) as { role?: string }).role === 'reader') break;
        assert.ok(Date.now() < deadline, 'the role change reached the server');
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      await button.click();
      await tab.waitForSelector(`tr[data-alert="${fresh}"] .row-error`, { timeout: UI_TIMEOUT_MS });
      assert.match(
        await tab.locator(`tr[data-alert="${fresh}"] .row-error`).innerText(),
        /needs the operator role; the key has reader/,
      );
      const stored = await api.db.query<{ state: string }>(`SELECT state FROM alerts WHERE id = $1`, [fresh]);
      assert.equal(stored.rows[0]?.state, 'open');
      assert.equal(await tab.locator(`tr[data-alert="${fresh}"]`).getAttribute('data-state'), 'open');
    });

    await t.test('choosing a zone filters by it and shows its expected publication', async () => {
      await page.getByLabel('Zone').selectOption('FI');
      await waitList(page, 2);
      assert.equal(new URL(page.url()).searchParams.get('zone'), 'FI');
      await page.waitForFunction(
        () => {
          const state = document.querySelector<HTMLElement>('[data-publication]')?.dataset['state'];
          return state === 'ready' || state === 'empty' || state === 'error';
        },
        undefined,
        { timeout: UI_TIMEOUT_MS },
      );
      const panel = page.locator('[data-publication]');
      assert.equal(await panel.getAttribute('data-state'), 'ready');
      assert.ok(Number(await panel.getAttribute('data-count')) > 0);
      const text = await panel.innerText();
      assert.match(text, /Expected publication/);
      assert.match(text, /Zone FI/);
      for (const header of ['Source', 'Metric', 'Resolution', 'Usual delay', 'Due by'])
        assert.match(text, new RegExp(header));
      assert.match(text, /entsoe/);
      assert.match(text, /2 h after the slot \(set in the rules\)/);
      await page.screenshot({ path: join(RESULTS, 'alerts-zone.png'), fullPage: true });
    });

    await t.test('an empty filter says so', async () => {
      await page.getByLabel('Detector').selectOption('meter_tamper');
      await waitList(page, 0);
      assert.equal(await page.locator('[data-alert-list]').getAttribute('data-state'), 'empty');
      assert.match(await page.locator('.alert-empty').innerText(), /no alerts matching these filters/);
      assert.equal(new URL(page.url()).searchParams.get('detector'), 'meter_tamper');
    });

    assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
  },
);
