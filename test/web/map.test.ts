/**
 * The analyst dashboard in a real browser against `gridstream start` (embedded, offline replay of the bundled real
 * ENTSO-E documents): the map at `/map` coloured by carbon intensity and with the physical flows as arrows, a tile
 * opening its zone page, the zone page's intensities side by side, its flows by neighbour, the forecast and the
 * best window (or their "not available" state), and the day-ahead price sequences explained in words.
 *
 * The bundled documents cover different days for different zones (no real same-day set for neighbouring zones
 * was found, see data/entsoe/MANIFEST.md), so the map is checked at two times: FI's generation day (a coloured
 * tile) and DK1's flow day (an arrow DK_1 → GB). Expected values come from the API, not from the page's code.
 *
 * Both intensities with values on one zone page would need the same; that part is blocked.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { z } from 'zod';
import { chromiumPath } from '../helpers/services.ts';
import { ADMIN_KEY, RESULTS, browserPages, startDashboardServer } from './dashboard-server.ts';

/** The replay stores every bundled document within a minute; on a shared 2-core box maybe much later. */
const DATA_TIMEOUT_MS = 180_000;
const UI_TIMEOUT_MS = 30_000;
const FLOW_AT = '2023-12-20T18:00:00Z';
const CARBON_AT = '2023-05-08T12:00:00Z';
const SLOT_MS = 15 * 60 * 1000;

const ZonesBody = z.object({
  zones: z.array(z.object({ code: z.string(), metrics: z.array(z.string()), last_slot: z.string() })),
});
type ZoneRow = z.infer<typeof ZonesBody>['zones'][number];
const Points = z.array(z.object({ value: z.number().nullable() }));
const PointsBody = z.object({
  points: Points.optional(),
  series: z.array(z.object({ points: Points })).optional(),
});

/** An API answer, checked against `schema`. */
async function api<S extends z.ZodType>(
  base: string,
  path: string,
  schema: S,
): Promise<{ status: number; body: z.infer<S> }> {
  const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  return { status: response.status, body: schema.parse(await response.json()) };
}

/** Waits until the replay has stored what the test looks at: FI's intensity, DK_1's flows, DE_LU's prices, SE_4. */
async function waitForData(base: string): Promise<ZoneRow[]> {
  const deadline = Date.now() + DATA_TIMEOUT_MS;
  const wanted: readonly [string, string][] = [
    ['FI', 'carbon_intensity_production'],
    ['DK_1', 'flow_physical'],
    ['DE_LU', 'price_day_ahead'],
    // The newest generation of the bundle: the demo data clock (and so the forecast and best window) follows it.
    ['SE_4', 'generation_actual'],
  ];
  for (;;) {
    const { body } = await api(base, '/api/v1/zones', ZonesBody);
    if (wanted.every(([zone, metric]) => body.zones.some((z) => z.code === zone && z.metrics.includes(metric))))
      return body.zones;
    if (Date.now() > deadline) throw new Error(`the replay did not store ${JSON.stringify(wanted)} in time`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** The value of one 15-minute slot as the API answers it. */
async function slotValue(base: string, path: string, at: string): Promise<number> {
  const to = new Date(Date.parse(at) + SLOT_MS).toISOString();
  const { status, body } = await api(
    base,
    `${path}&from=${encodeURIComponent(at)}&to=${encodeURIComponent(to)}`,
    PointsBody,
  );
  assert.equal(status, 200);
  const points = body.points ?? body.series?.[0]?.points ?? [];
  const value = points[0]?.value;
  assert.ok(typeof value === 'number', `${path} has a value at ${at}`);
  return value;
}

/**
 * The zone whose generation is the newest stored: the one the demo data clock follows, so the one with data in the
 * 7 days before the clock's now (what the forecast and the best window need).
 */
function newestGeneration(zones: readonly ZoneRow[]): string {
  const withGeneration = zones
    .filter((z) => z.metrics.includes('generation_actual'))
    .sort((a, b) => Date.parse(b.last_slot) - Date.parse(a.last_slot));
  const zone = withGeneration[0]?.code;
  assert.ok(zone !== undefined, 'a zone with generation');
  return zone;
}

async function mapReady(page: Page): Promise<Record<string, string>> {
  await page.waitForFunction(() => document.querySelector<HTMLElement>('.zone-map')?.dataset['state'] === 'ready');
  return page
    .locator('.zone-map')
    .evaluate((el: HTMLElement) => Object.fromEntries(Object.entries(el.dataset)) as Record<string, string>);
}

async function cardState(page: Page, name: string): Promise<Record<string, string>> {
  await page.waitForFunction(
    (n) =>
      !['loading', undefined].includes(document.querySelector<HTMLElement>(`[data-card="${n}"]`)?.dataset['state']),
    name,
  );
  return page
    .locator(`[data-card="${name}"]`)
    .evaluate((el: HTMLElement) => Object.fromEntries(Object.entries(el.dataset)) as Record<string, string>);
}

test(
  'analyst dashboard: map, flows, zone page, forecast, best window, price words',
  { timeout: 600_000 },
  async (t: TestContext) => {
    const executablePath = await chromiumPath(t);
    if (executablePath === undefined) return;
    const server = await startDashboardServer(t, 'gridstream-map');
    const { base } = server;
    const zones = await waitForData(base);
    const browser = await browserPages(t, { name: 'map', base, executablePath });
    const open = async (path: string, viewport?: { width: number; height: number }): Promise<Page> => {
      // The key travels in the fragment and is stored by the page (then removed from the address).
      const page = await browser.open(`${path}#key=${ADMIN_KEY}`, viewport);
      page.setDefaultTimeout(UI_TIMEOUT_MS);
      return page;
    };

    await t.test('the map at a time with flows: an arrow DK_1 → GB labelled with the stored MW', async () => {
      const mw = await slotValue(base, '/api/v1/series?zone=DK_1&metric=flow_physical&counterpart_zone=GB', FLOW_AT);
      const page = await open(`/map?at=${FLOW_AT}`);
      const map = await mapReady(page);
      assert.equal(map['slot'], new Date(FLOW_AT).toISOString());
      assert.ok(Number(map['arrows']) >= 1, `arrows drawn: ${map['arrows']}`);
      const arrow = page.locator('svg.flow-layer g.flow[data-flow="DK_1>GB"]');
      assert.equal(await arrow.count(), 1, 'one arrow from the exporter DK_1 to the importer GB');
      assert.equal(Number(await arrow.getAttribute('data-mw')), Math.abs(mw));
      assert.match(
        (await arrow.locator('text').textContent()) ?? '',
        new RegExp(`^${Math.abs(mw).toLocaleString('en-GB')} MW$`),
      );
      // The arrow is drawn between the two tiles (its line has a length), and the flow is also listed as text.
      const length = await arrow.locator('path.flow-line').evaluate((l: SVGPathElement) => l.getTotalLength());
      assert.ok(length > 20, `the arrow has a length (${length})`);
      assert.match(await page.locator('.flow-items li[data-flow="DK_1>GB"]').innerText(), /DK_1 → GB: .* MW/);
      // GB has no stored data of its own: its tile says so instead of showing a zero.
      assert.equal(await page.locator('.tile[data-zone="GB"]').getAttribute('data-state'), 'nodata');
      assert.match(await page.locator('.tile[data-zone="GB"]').innerText(), /no data/);
      await page.screenshot({ path: join(RESULTS, 'map-flows.png'), fullPage: true });
    });

    await t.test(
      'the map at a time with generation: FI coloured by its stored intensity, a legend with values',
      async () => {
        const value = await slotValue(base, '/api/v1/carbon-intensity?zone=FI&basis=production', CARBON_AT);
        const page = await open(`/map?at=${CARBON_AT}`);
        const map = await mapReady(page);
        assert.ok(Number(map['coloured']) >= 1);
        const fi = page.locator('a.tile[data-zone="FI"]');
        assert.equal(await fi.getAttribute('data-state'), 'value');
        assert.equal(Number(await fi.getAttribute('data-value')), value);
        const [fiBackground, emptyBackground] = await Promise.all([
          fi.evaluate((el) => getComputedStyle(el).backgroundColor),
          page.locator('.tile[data-zone="PL"]').evaluate((el) => getComputedStyle(el).backgroundImage),
        ]);
        assert.match(fiBackground, /^rgb\(/, 'FI has a fill colour');
        assert.notEqual(fiBackground, 'rgba(0, 0, 0, 0)');
        assert.match(
          emptyBackground,
          /repeating-linear-gradient/,
          'a zone without data is hatched, not coloured as zero',
        );
        assert.match(await fi.innerText(), new RegExp(String(Math.round(value))));
        // The legend states its values without hovering.
        const legend = await page.locator('.map-legend').innerText();
        for (const text of ['gCO2eq/kWh', '0', '300', '800+', 'no data'])
          assert.ok(legend.includes(text), `legend: ${text}`);
        // Switching the basis reloads the map: FI has no consumption-based value in the bundled data.
        await page.getByRole('radio', { name: 'Consumption-based' }).check();
        await page.waitForFunction(
          () => document.querySelector<HTMLElement>('.zone-map')?.dataset['basis'] === 'consumption',
        );
        await mapReady(page);
        assert.match(page.url(), /basis=consumption/);
        assert.equal(await page.locator('.tile[data-zone="FI"]').getAttribute('data-state'), 'nodata');
      },
    );

    await t.test(
      'keyboard: a tile is a link; Enter opens its zone page with both intensities side by side',
      async () => {
        const page = await open(`/map?at=${CARBON_AT}`);
        await mapReady(page);
        await page.locator('a.tile[data-zone="FI"]').focus();
        await page.keyboard.press('Enter');
        await page.waitForURL(/\/\?zone=FI&from=2023-05-08&to=2023-05-08/);
        const compare = await cardState(page, 'intensity-compare');
        assert.equal(compare['state'], 'ready');
        const { body } = await api(
          base,
          '/api/v1/carbon-intensity?zone=FI&basis=production&from=2023-05-08&to=2023-05-09',
          PointsBody,
        );
        const values = (body.points ?? []).map((p) => p.value).filter((v): v is number => v !== null);
        const mean = values.reduce((a, b) => a + b, 0) / values.length;
        const shown = Number(
          await page
            .locator('[data-card="intensity-compare"] .stat[data-basis="production"]')
            .getAttribute('data-value'),
        );
        assert.ok(Math.abs(shown - mean) < 1e-6, `production mean ${shown} vs ${mean}`);
        const consumption = page.locator('[data-card="intensity-compare"] .stat[data-basis="consumption"]');
        assert.equal(await consumption.count(), 1, 'the consumption-based side is there too');
        // FI has no consumption-based data in the bundle: the page says so instead of showing 0.
        assert.match(await consumption.innerText(), /no data/);
        assert.equal(await consumption.getAttribute('data-value'), '');
      },
    );

    await t.test('the zone page lists imports and exports by neighbour', async () => {
      const page = await open('/?zone=DK_1&from=2023-12-20&to=2023-12-21');
      const flows = await cardState(page, 'flows');
      assert.equal(flows['state'], 'ready');
      assert.equal(flows['neighbours'], '1');
      const row = page.locator('[data-card="flows"] .flow-table tbody tr');
      assert.equal(await row.count(), 1);
      assert.match(await row.innerText(), /^GB\s+not published\s+[\d,.]+ MW/);
      // The chart's legend shows a value without hovering.
      assert.match(await page.locator('[data-card="flows"] .u-legend').innerText(), /GB \(net import\)\s*-?[\d,.]+ MW/);
    });

    await t.test('forecast and best window never show an error: a chart, or a plain "not available"', async () => {
      const page = await open('/?zone=FI&from=2023-05-08&to=2023-05-08');
      for (const name of ['forecast', 'best-window']) {
        const card = await cardState(page, name);
        assert.notEqual(card['state'], 'error', `${name}: ${JSON.stringify(card)}`);
        if (card['availability'] !== 'ok')
          assert.match(await page.locator(`[data-card="${name}"]`).innerText(), /not available|No /);
      }
      assert.match(await page.locator('[data-card="forecast"] h2').innerText(), /Forecast/i, 'marked as a forecast');
      assert.match(await page.locator('.analyst-section .data-clock').innerText(), /clock/i);
      await page.screenshot({ path: join(RESULTS, 'zone-analyst.png'), fullPage: true });
    });

    // Asked for the zone the demo clock follows (SE_4 in the bundle: its generation is the newest).
    await t.test(
      'the forecast of a zone with generation is drawn, marked as a forecast, by the demo data clock',
      async () => {
        const page = await open(`/?zone=${newestGeneration(zones)}`);
        const card = await cardState(page, 'forecast');
        assert.equal(card['availability'], 'ok', 'GET /api/v1/carbon-intensity/forecast answered');
        assert.equal(card['state'], 'ready');
        assert.ok(Number(card['slots']) > 0);
        assert.match(
          await page.locator('[data-card="forecast"] .card-notes').innerText(),
          /A forecast, not measured values/,
        );
        // The clock line is loaded on its own (it says "Data clock: …" until then).
        await page.waitForFunction(
          () => document.querySelector<HTMLElement>('.analyst-section .data-clock')?.dataset['clockMode'] !== 'loading',
        );
        assert.equal(await page.locator('.analyst-section .data-clock').getAttribute('data-clock-mode'), 'demo');
        assert.match(await page.locator('.analyst-section .data-clock').innerText(), /^Demo data clock: /);
      },
    );

    // The next 24 h from the demo clock have no actuals, so the windows come from the forecast.
    await t.test('the best window for the next day is listed in words', async () => {
      const page = await open(`/?zone=${newestGeneration(zones)}`);
      const card = await cardState(page, 'best-window');
      assert.equal(card['availability'], 'ok', 'GET /api/v1/carbon-aware/best-window answered');
      assert.equal(card['state'], 'ready');
      assert.ok(Number(card['windows']) >= 1);
      assert.match(
        await page.locator('[data-card="best-window"] .window-list').innerText(),
        /Best: .* mean [\d,.]+ gCO2eq\/kWh/,
      );
    });

    // Both intensities with values on one zone page needs replayed same-day data of neighbouring zones (generation
    // and the flows between them), which no real document set found holds (data/entsoe/SEARCH-same-day-sets.md):
    // blocked. The keyboard subtest above checks the consumption side says "no data" instead of showing 0.

    await t.test('the DE-LU price sequences are explained in words, legend values without hovering', async () => {
      const page = await open('/?zone=DE_LU&from=2021-01-01&to=2021-01-01');
      const price = await cardState(page, 'price');
      assert.equal(price['state'], 'ready');
      assert.equal(price['series'], '2');
      const notes = await page.locator('[data-card="price"] .card-notes').innerText();
      assert.match(notes, /Sequence 1 is the Single Day-Ahead Coupling \(SDAC\)/);
      assert.match(notes, /Sequence 2 is the separate EXAA auction/);
      assert.match(notes, /Sequence 1 \(SDAC\): hourly prices/);
      assert.match(notes, /Sequence 2 \(EXAA\): 15-minute prices/);
      const legend = await page.locator('[data-card="price"] .u-legend').innerText();
      assert.match(legend, /Sequence 1 \(SDAC\)\s*[-\d.,]+ EUR\/MWh/);
    });

    await t.test('phone width: the whole map fits, tiles stay links', async () => {
      const page = await open(`/map?at=${CARBON_AT}`, { width: 390, height: 844 });
      await mapReady(page);
      const box = await page.locator('a.tile[data-zone="FI"]').boundingBox();
      assert.ok(box !== null && box.x + box.width <= 390, `FI tile inside the screen: ${JSON.stringify(box)}`);
      const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(scrollWidth <= 390, `no horizontal scrolling (${scrollWidth})`);
      await page.screenshot({ path: join(RESULTS, 'map-phone.png'), fullPage: true });
    });

    assert.deepEqual(browser.pageErrors, [], 'no uncaught errors in the page');
  },
);
