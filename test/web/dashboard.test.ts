/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against `gridstream start` in
 * embedded mode on a temporary data dir, while its offline replay stores the bundled real ENTSO-E documents:
 * sign-in (wrong key, the printed `#key=` link pasted into an open tab, then the admin key), the zone list, the
 * charts with data from the replayed documents, axis labels in the browser's locale, a slot arriving through the
 * live stream, desktop and phone screenshots (test-results/web/), the operator pages, a restricted reader key
 * (also switched to in an open tab), and a clean SIGTERM shutdown.
 *
 * Timings are measured and reported (t.diagnostic and test-results/web/timings.json), never asserted.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { spawnGridstream } from '../helpers/cli.ts';
import { ROOT } from '../helpers/fixtures.ts';
import { chromiumPath } from '../helpers/services.ts';
import {
  ADMIN_KEY,
  RESULTS,
  card,
  exited,
  newContext,
  startDashboardServer,
  watch,
  closeContext,
} from './dashboard-server.ts';

/** Generous: the replay stores LU's generation ~18 documents (1 s apart) after start, on a shared 2-core box. */
const DATA_TIMEOUT_MS = 120_000;
const UI_TIMEOUT_MS = 30_000;

/** Non-transparent pixels of the chart's canvas (uPlot draws there). */
async function paintedPixels(page: Page, name: string): Promise<number> {
  return page
    .locator(`[data-card="${name}"] canvas`)
    .first()
    .evaluate((canvas: HTMLCanvasElement) => {
      const ctx = canvas.getContext('2d');
      if (ctx === null) return 0;
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) painted++;
      return painted;
    });
}

/** Records every text drawn on a canvas (uPlot draws its axis labels there), with its canvas. */
function recordCanvasText(): void {
  const drawn: { canvas: HTMLCanvasElement; text: string }[] = [];
  Object.assign(window, { drawnText: drawn });
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the drawing context as `this`
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text: string, x: number, y: number, maxWidth?: number) {
    drawn.push({ canvas: this.canvas, text });
    if (maxWidth === undefined) fillText.call(this, text, x, y);
    else fillText.call(this, text, x, y, maxWidth);
  };
}

/** The texts drawn on the canvases of card `name` so far (see {@link recordCanvasText}). */
async function drawnText(page: Page, name: string): Promise<string[]> {
  return page.evaluate((cardName) => {
    const drawn = (window as unknown as { drawnText: { canvas: HTMLCanvasElement; text: string }[] }).drawnText;
    const texts = drawn.filter((d) => d.canvas.closest(`[data-card="${cardName}"]`) !== null).map((d) => d.text);
    return [...new Set(texts)];
  }, name);
}

/** Marks the document, to tell later whether the page was reloaded. */
async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => {
    Object.assign(window, { sameDocument: true });
  });
}

async function sameDocument(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument === true);
}

const zonesListed = (): boolean =>
  Number(document.querySelector<HTMLElement>('#main select')?.dataset['zones'] ?? '0') > 0;

test(
  'dashboard: sign-in, charts from the replay, live updates, operator pages, phone layout',
  { timeout: 600_000 },
  async (t: TestContext) => {
    const executablePath = await chromiumPath(t);
    if (executablePath === undefined) return;
    const server = await startDashboardServer(t, 'gridstream');
    const { base, child, ingestPort } = server;
    const contexts: BrowserContext[] = [];
    const browserLog: string[] = [];
    const pageErrors: string[] = [];
    t.after(async () => {
      for (const c of contexts) await closeContext(c);
      await writeFile(join(RESULTS, 'browser.log'), browserLog.join('\n'));
    });
    const timings: Record<string, number | string> = { api_up_after_start_ms: server.upAfterMs };

    const dashboard = { served: false };
    await t.test('the dashboard is served at / without a key, its assets cached for a year', async () => {
      const index = await fetch(`${base}/`);
      const body = await index.text();
      assert.equal(
        index.status,
        200,
        `GET / answered ${index.status} ${index.headers.get('content-type') ?? ''}: ${body.slice(0, 200)}`,
      );
      assert.match(index.headers.get('content-type') ?? '', /text\/html/);
      const script = /src="(\/assets\/app-[\w-]+\.js)"/.exec(body)?.[1];
      assert.ok(script !== undefined, 'index.html references the hashed bundle');
      const asset = await fetch(`${base}${script}`);
      assert.equal(asset.status, 200);
      assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
      // Client-side routes get index.html too.
      assert.equal((await fetch(`${base}/admin/dlq`)).status, 200);
      dashboard.served = true;
    });
    // Without the page there is nothing for the browser to check (the failure above says why).
    if (!dashboard.served) return;

    const open = async (options: Parameters<typeof newContext>[2] = {}): Promise<Page> => {
      const context = await newContext(executablePath, server.dir, options);
      contexts.push(context);
      const page = context.pages()[0] ?? (await context.newPage());
      watch(page, browserLog, pageErrors);
      page.setDefaultTimeout(UI_TIMEOUT_MS);
      return page;
    };

    await t.test('a wrong key is refused with the server’s explanation', async () => {
      const page = await open();
      await page.goto(`${base}/`);
      await page.getByLabel('API key').fill('not-a-valid-key-0000000000');
      await page.getByRole('button', { name: 'Sign in' }).click();
      const error = page.locator('[data-sign-in-error]');
      await page.waitForFunction(
        () => (document.querySelector<HTMLElement>('[data-sign-in-error]')?.dataset['signInError'] ?? '') !== '',
      );
      const text = (await error.textContent()) ?? '';
      assert.match(text, /refused/i);
      assert.match(text, /not valid/i, 'the problem+json detail is shown');
      assert.equal(
        await page.evaluate(() => localStorage.getItem('gridstream.apiKey')),
        null,
        'a refused key is not kept',
      );
    });

    await t.test('the printed #key= link pasted into an open tab signs in, without a reload', async () => {
      const tab = await open();
      await tab.goto(`${base}/`);
      await tab.getByLabel('API key').waitFor();
      await markDocument(tab);
      // What pasting the link does: the address differs from the tab's only in its fragment.
      await tab.goto(`${base}/#key=${ADMIN_KEY}`);
      await tab.waitForFunction(zonesListed, undefined, { timeout: DATA_TIMEOUT_MS });
      assert.equal(await sameDocument(tab), true, 'signed in by the hashchange, not by a reload');
      assert.equal(await tab.evaluate(() => window.location.hash), '', 'the key is removed from the address bar');
      assert.equal(await tab.evaluate(() => localStorage.getItem('gridstream.apiKey')), ADMIN_KEY);
      assert.equal(await tab.getByLabel('API key').count(), 0, 'the sign-in form is gone');
    });

    // Opened right away, on a zone whose generation the replay stores only later: the page fills in by itself.
    const page = await open();
    await t.test('signing in with the admin key loads the zone list', async () => {
      await page.goto(`${base}/?zone=LU`);
      await page.getByLabel('API key').fill(ADMIN_KEY);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('#main select')?.dataset['zones'] ?? '0') > 0,
        undefined,
        {
          timeout: DATA_TIMEOUT_MS,
        },
      );
      assert.equal(await page.evaluate(() => localStorage.getItem('gridstream.apiKey')), ADMIN_KEY);
      const options = await page.locator('#main select option').allTextContents();
      t.diagnostic(`zones at sign-in: ${options.join(' | ')}`);
      assert.ok(options.length > 0);
    });

    await t.test('the generation mix of LU is drawn from the replayed document', async () => {
      const firstState = await card(page, 'generation');
      timings['lu_generation_state_when_page_opened'] = firstState.state;
      await page.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('[data-card="generation"]')?.dataset['points'] ?? '0') > 0,
        undefined,
        {
          timeout: DATA_TIMEOUT_MS,
        },
      );
      const generation = await card(page, 'generation');
      assert.equal(generation.state, 'ready');
      assert.ok(generation.series >= 3, `several production types stacked (got ${generation.series})`);
      assert.ok(generation.points > 50, `points drawn (got ${generation.points})`);
      assert.ok((await paintedPixels(page, 'generation')) > 2000, 'the canvas is painted');
      const legend = await page.locator('[data-card="generation"] .u-legend').textContent();
      assert.match(legend ?? '', /Solar/, 'the legend names the production types');
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('[data-card="mix"]')?.dataset['state'] === 'ready',
      );
      assert.ok(
        Number(await page.locator('[data-card="mix"]').getAttribute('data-entries')) > 0,
        'the latest mix lists shares',
      );
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('[data-card="carbon"]')?.dataset['state'] === 'ready',
        undefined,
        {
          timeout: DATA_TIMEOUT_MS,
        },
      );
      assert.equal(await page.locator('[data-card="carbon"]').getAttribute('data-consumption'), 'missing');
      assert.match((await page.locator('[data-card="carbon"]').textContent()) ?? '', /No consumption-based data/);
      const price = await card(page, 'price');
      assert.equal(price.state, 'empty', 'LU has no prices: the card says so instead of drawing empty axes');
      assert.equal(await page.locator('[data-card="price"] canvas').count(), 0);
      // The completeness badge loads on its own: wait for its answer rather than read it while it loads.
      await page.waitForFunction(
        () => /% complete|No data expected/.test(document.querySelector('.completeness summary')?.textContent ?? ''),
        undefined,
        { timeout: DATA_TIMEOUT_MS },
      );
    });

    await t.test(
      'chart axes follow the browser’s locale (de-DE): German dates, 24-hour times, 1.234 numbers',
      async () => {
        const german = await open({ locale: 'de-DE' });
        await german.addInitScript(recordCanvasText);
        // Finland's replayed generation runs into thousands of MW: the value axis needs digit grouping.
        await german.goto(`${base}/?zone=FI#key=${ADMIN_KEY}`);
        assert.equal(await german.evaluate(() => navigator.language), 'de-DE');
        await german.waitForFunction(
          () => document.querySelector<HTMLElement>('[data-card="generation"]')?.dataset['state'] === 'ready',
          undefined,
          { timeout: DATA_TIMEOUT_MS },
        );
        const labels = await drawnText(german, 'generation');
        t.diagnostic(`FI generation axis labels (de-DE): ${JSON.stringify(labels)}`);
        assert.ok(
          labels.some((l) => /^\d{1,2}\. Mai( \d{4})?$/.test(l)),
          'a date in German (the replayed FI day is in May)',
        );
        assert.ok(
          labels.some((l) => /^\d{2}:\d{2}$/.test(l)),
          'times of day on the 24-hour clock',
        );
        assert.ok(
          labels.some((l) => /^\d{1,3}(\.\d{3})+$/.test(l)),
          'thousands grouped with a dot',
        );
        const english = labels.filter((l) =>
          /\b(May|AM|PM|am|pm)\b|^\d{1,3}(,\d{3})+$|^\d{4,}$|^\d+(\.\d+)?k$/.test(l),
        );
        assert.deepEqual(english, [], 'no en-US (or unformatted) label');
      },
    );

    await t.test('a new slot arrives through the live stream and is shown', async () => {
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('.live-badge')?.dataset['liveState'] === 'live',
      );
      // The embedded default replays bundled documents: the connected stream is labelled a replay, never "Live".
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('.live-badge')?.dataset['feed'] === 'replay',
      );
      assert.equal((await page.locator('.live-badge .live-label').innerText()).trim(), 'Replay');
      await page.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('.last-update')?.dataset['events'] ?? '0') > 0,
        undefined,
        {
          timeout: DATA_TIMEOUT_MS,
        },
      );
      const indicator = await page.locator('.last-update').evaluate((el: HTMLElement) => ({
        events: el.dataset['events'] ?? '',
        lastSlot: el.dataset['lastSlot'] ?? '',
        lastMetric: el.dataset['lastMetric'] ?? '',
        text: el.textContent,
      }));
      t.diagnostic(`live indicator: ${JSON.stringify(indicator)}`);
      assert.match(indicator.lastSlot, /^2024-05-2\dT\d\d:\d\d:00\.000Z$/, 'a LU slot of the replayed document');
      assert.match(indicator.text, /Last update/);
      assert.ok(Number(await page.locator('.live-badge').getAttribute('data-events')) > 0);
    });

    await t.test('screenshots: desktop and phone', async () => {
      await page.screenshot({ path: join(RESULTS, 'dashboard-desktop.png'), fullPage: true });
      // A fresh load with the stored key: the time to first data on the embedded default.
      const phone = await open({ viewport: { width: 390, height: 844 } });
      await phone.goto(`${base}/#key=${ADMIN_KEY}`);
      assert.equal(await phone.evaluate(() => window.location.hash), '', 'the key is removed from the address bar');
      await phone.goto(`${base}/?zone=LU`);
      await phone.waitForFunction(() => document.documentElement.dataset['firstData'] !== undefined);
      await phone.waitForFunction(
        () => document.querySelector<HTMLElement>('[data-card="generation"]')?.dataset['state'] === 'ready',
      );
      await phone.waitForFunction(
        () => document.querySelector<HTMLElement>('[data-card="carbon"]')?.dataset['state'] !== 'loading',
      );
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `no horizontal scrolling on a phone (overflow ${overflow} px)`);
      await phone.screenshot({ path: join(RESULTS, 'dashboard-phone.png'), fullPage: true });

      const desktop = await open();
      await desktop.goto(`${base}/#key=${ADMIN_KEY}`);
      const t0 = Date.now();
      await desktop.goto(`${base}/?zone=LU`);
      await desktop.waitForFunction(() => document.documentElement.dataset['firstData'] !== undefined);
      timings['first_data_wall_ms'] = Date.now() - t0;
      timings['first_data_since_navigation_ms'] = Number(
        await desktop.evaluate(() => document.documentElement.dataset['firstData']),
      );
      t.diagnostic(
        `time to first data: ${timings['first_data_since_navigation_ms']} ms after navigation start (${timings['first_data_wall_ms']} ms wall clock)`,
      );
    });

    await t.test('operator pages: connectors and jobs, dead letters with replay, consumer lag', async () => {
      // A dead letter to look at: a line that is not JSON, posted to the ingest gateway.
      const ingest = await fetch(`http://127.0.0.1:${ingestPort}/ingest/meters`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
        body: 'this is not json\n',
      });
      // 400 when no line was a reading; the bad line is dead-lettered either way.
      assert.deepEqual(await ingest.json(), {
        accepted: 0,
        rejected: 1,
        rejects: [
          {
            reason: 'ingest.not_json',
            message: `Unexpected token 'h', "this is not json" is not valid JSON`,
            count: 1,
            lines: [1],
          },
        ],
      });

      await page.waitForFunction(() => document.documentElement.dataset['role'] === 'admin');
      await page.getByRole('link', { name: 'Operations' }).click();
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('[data-view="connectors"]')?.dataset['state'] === 'ready',
      );
      assert.match((await page.locator('[data-view="connectors"]').textContent()) ?? '', /offline-replay/);
      // The replay's progress: every bundled document, how many are published (each once, never again).
      const replay = page.locator('[data-replay]');
      const bundled = readdirSync(join(ROOT, 'data', 'replay', 'entsoe')).filter((f) => f.endsWith('.xml')).length;
      assert.equal(await replay.getAttribute('data-documents'), String(bundled));
      const published = Number(await replay.getAttribute('data-published'));
      assert.ok(published >= 1 && published <= bundled, `${published} of ${bundled} published`);
      assert.match((await replay.textContent()) ?? '', /Bundled documents/);

      await page.getByRole('link', { name: 'Dead letters' }).click();
      await page.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('[data-view="dlq"]')?.dataset['total'] ?? '0') > 0,
      );
      await page.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('[data-dlq-entries]')?.dataset['dlqEntries'] ?? '0') > 0,
      );
      await page.locator('[data-dlq-entries] tbody .link-button').first().click();
      await page.waitForFunction(() => /not_json/.test(document.querySelector('.dlq-detail')?.textContent ?? ''));
      assert.match((await page.locator('.dlq-detail pre').first().textContent()) ?? '', /this is not json/);
      await page.locator('[data-dlq-entries] tbody input[type="checkbox"]').first().check();
      await page.getByRole('button', { name: /Replay selected \(1\)/ }).click();
      await page.waitForFunction(
        () =>
          /Replay/.test(document.querySelector('.action-result')?.textContent ?? '') &&
          !/…$/.test(document.querySelector('.action-result')?.textContent ?? ''),
      );
      t.diagnostic(`replay: ${(await page.locator('.action-result').textContent()) ?? ''}`);
      await page.screenshot({ path: join(RESULTS, 'admin-dlq.png'), fullPage: true });

      await page.getByRole('link', { name: 'Consumer lag' }).click();
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('[data-view="lag"]')?.dataset['state'] === 'ready',
      );
      assert.ok(Number(await page.locator('[data-view="lag"]').getAttribute('data-groups')) > 0);
    });

    let readerKey = '';
    await t.test('API keys: create a reader key for one zone (shown once), list it', async () => {
      await page.getByRole('link', { name: 'API keys' }).click();
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('[data-view="keys"]')?.dataset['state'] === 'ready',
      );
      await page.getByLabel('Name').fill('browser test reader');
      await page.getByLabel('Role').selectOption('reader');
      await page.getByLabel('Zones').fill('LU');
      await page.getByRole('button', { name: 'Create key' }).click();
      await page.waitForSelector('[data-new-key]');
      readerKey = (await page.locator('[data-new-key]').getAttribute('data-new-key')) ?? '';
      assert.match(readerKey, /^gs_/);
      await page.waitForFunction(() =>
        /browser test reader/.test(document.querySelector('[data-view="keys"]')?.textContent ?? ''),
      );
      await page.screenshot({ path: join(RESULTS, 'admin-keys.png'), fullPage: true });
    });

    await t.test('a reader key sees only its zone and no operator pages', async () => {
      const reader = await open();
      await reader.goto(`${base}/#key=${encodeURIComponent(readerKey)}`);
      await reader.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('#main select')?.dataset['zones'] ?? '0') > 0,
      );
      assert.deepEqual(
        await reader.locator('#main select option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
        ['LU'],
      );
      await reader.waitForFunction(() => document.documentElement.dataset['role'] === 'reader');
      assert.equal(await reader.getByRole('link', { name: 'Operations' }).isVisible(), false);
      await reader.goto(`${base}/admin`);
      await reader.waitForFunction(() =>
        /needs the operator role/.test(document.querySelector('.admin-content')?.textContent ?? ''),
      );
    });

    await t.test('pasting another key’s link into a signed-in tab switches to that key', async () => {
      const tab = await open();
      await tab.goto(`${base}/?zone=LU#key=${ADMIN_KEY}`);
      await tab.waitForFunction(() => document.documentElement.dataset['role'] === 'admin');
      await markDocument(tab);
      await tab.goto(`${base}/?zone=LU#key=${encodeURIComponent(readerKey)}`);
      await tab.waitForFunction(() => document.documentElement.dataset['role'] === 'reader');
      assert.equal(await sameDocument(tab), true, 'switched by the hashchange, not by a reload');
      assert.equal(await tab.evaluate(() => localStorage.getItem('gridstream.apiKey')), readerKey);
      assert.deepEqual(
        await tab.locator('#main select option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
        ['LU'],
        'the zone list is the reader key’s',
      );
      assert.equal(await tab.getByRole('link', { name: 'Operations' }).isVisible(), false);
    });

    await t.test('revoking the key signs its user out', async () => {
      page.once('dialog', (dialog) => {
        void dialog.accept();
      });
      const id = readerKey.split('_')[1] ?? '';
      await page.locator(`[data-revoke="${id}"]`).click();
      await page.waitForFunction((keyId) => document.querySelector(`[data-revoke="${keyId}"]`) === null, id);
      const reader = await open();
      await reader.goto(`${base}/#key=${encodeURIComponent(readerKey)}`);
      await reader.waitForFunction(
        () => (document.querySelector<HTMLElement>('[data-sign-in-error]')?.dataset['signInError'] ?? '') !== '',
      );
      assert.match((await reader.locator('[data-sign-in-error]').textContent()) ?? '', /refused/);
    });

    assert.deepEqual(pageErrors, [], 'no uncaught errors in the pages');
    await writeFile(join(RESULTS, 'timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
    t.diagnostic(`timings: ${JSON.stringify(timings)}`);

    await t.test('gridstream keys create, run as another process while the server runs, goes through it', async () => {
      // What the sign-in page tells a user to do: the server holds the data directory, the command reaches it
      // through the control socket (a real second process: the lock is held by another pid).
      const created = await spawnGridstream(['keys', 'create', '--role', 'reader', '--name', 'from the CLI'], {
        env: server.env,
      });
      assert.equal(created.code, 0, created.stderr);
      const key = created.stdout.trim();
      assert.equal((await fetch(`${base}/api/v1/zones`, { headers: { authorization: `Bearer ${key}` } })).status, 200);
      const second = await spawnGridstream(['start'], { env: server.env });
      assert.equal(second.code, 1);
      assert.match(second.stderr, /already running in .* \(process \d+\)/);
    });

    await t.test('gridstream stops cleanly on SIGTERM', async () => {
      for (const c of contexts.splice(0)) await closeContext(c);
      child.kill('SIGTERM');
      assert.equal(await exited(child, 60_000), 0);
    });
  },
);
