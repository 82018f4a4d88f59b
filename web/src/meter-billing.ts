/**
 * The data-quality and settlement cards of a meter's or a group's page, for the period its load panel shows:
 * shares of measured, estimated, substituted and missing intervals with the validation rules that failed, and
 * energy, cost and emissions with their totals (rounded half-even by the API) and pending periods marked.
 */
import type { ApiClient } from './api-client.ts';
import { describeError, isAbort } from './api-client.ts';
import type { Decoder } from './decode.ts';
import { array, field, nullable, num, record, str } from './decode.ts';
import type { Child } from './dom.ts';
import { h, replace, table, uid } from './dom.ts';
import { formatDate, formatDateTime, formatShare } from './format.ts';
import { formatExact } from './meter-load.ts';
import type { DayResolution, EnergyQuantity, LoadPeriod } from './meter-period.ts';
import { periodQuery } from './meter-period.ts';
import { METER_QUALITIES } from './meter-types.ts';

interface QualitySummary {
  readonly intervals: number;
  readonly counts: Readonly<Record<string, number>>;
  readonly shares: Readonly<Record<string, number>>;
  readonly rules: readonly { readonly rule: string; readonly failures: number }[];
}

interface SettlementRow {
  readonly start: number;
  readonly energy: string | null;
  readonly cost: string | null;
  readonly lifecycle: string | null;
  readonly direct: string | null;
  readonly status: string;
}

interface Settlement {
  readonly currency: string | null;
  readonly status: string;
  readonly timeZone: string;
  readonly totals: Readonly<Record<string, string>>;
  readonly rows: readonly SettlementRow[];
}

const counts: Decoder<Record<string, number>> = (v, at) => {
  const o = record(v, at);
  return Object.fromEntries(METER_QUALITIES.map((q) => [q, num(o[q] ?? 0, `${at}.${q}`)]));
};

const decodeQuality: Decoder<QualitySummary> = (v, at) => {
  const o = record(v, at);
  return {
    intervals: field(o, 'intervals', num, at),
    counts: field(o, 'counts', counts, at),
    shares: field(o, 'shares', counts, at),
    rules: field(
      o,
      'rules',
      array((r, a) => {
        const x = record(r, a);
        return { rule: field(x, 'rule', str, a), failures: field(x, 'failures', num, a) };
      }),
      at,
    ),
  };
};

const decodeSettlement: Decoder<Settlement> = (v, at) => {
  const o = record(v, at);
  const units = field(o, 'units', record, at);
  const totals = field(o, 'totals', record, at);
  return {
    currency: field(units, 'cost', nullable(str), at),
    status: field(o, 'status', str, at),
    timeZone: field(o, 'time_zone', str, at),
    totals: Object.fromEntries(Object.entries(totals).map(([k, x]) => [k, str(x, `${at}.totals.${k}`)])),
    rows: field(
      o,
      'rows',
      array((r, a) => {
        const x = record(r, a);
        return {
          start: Date.parse(field(x, 'start', str, a)),
          energy: field(x, 'energy_kwh', nullable(str), a),
          cost: field(x, 'cost', nullable(str), a),
          lifecycle: field(x, 'emissions_lifecycle_g', nullable(str), a),
          direct: field(x, 'emissions_direct_g', nullable(str), a),
          status: field(x, 'status', str, a),
        };
      }),
      at,
    ),
  };
};

function card(name: string, title: string, body: HTMLElement): HTMLElement {
  const id = uid(`${name}-title`);
  return h(
    'section',
    { class: 'card billing-card', attrs: { 'aria-labelledby': id }, data: { card: name, state: 'loading' } },
    [h('header', { class: 'card-header' }, [h('h2', { text: title, attrs: { id } })]), body],
  );
}

const dash = (v: string | null): string => (v === null ? '–' : formatExact(v));

/** The two cards, reloaded whenever the page shows another period or quantity. */
export class BillingCards {
  readonly el: HTMLElement;
  readonly #quality = h('div', { class: 'card-body' });
  readonly #settlement = h('div', { class: 'card-body' });
  readonly #qualityCard: HTMLElement;
  readonly #settlementCard: HTMLElement;
  readonly #client: ApiClient;
  readonly #base: string;
  #controller: AbortController | undefined;

  /** `base`: the API path of the meter or group (`/api/v1/meters/m-1`, `/api/v1/groups/feeder-7`). */
  constructor(client: ApiClient, base: string) {
    this.#client = client;
    this.#base = base;
    this.#qualityCard = card('quality', 'Data quality', this.#quality);
    this.#settlementCard = card('settlement', 'Settlement', this.#settlement);
    this.el = h('div', { class: 'billing-cards' }, [this.#qualityCard, this.#settlementCard]);
  }

  show(period: LoadPeriod, quantity: EnergyQuantity, dayResolution: DayResolution = 'PT15M'): void {
    this.#controller?.abort();
    const controller = new AbortController();
    this.#controller = controller;
    const q = periodQuery(period, dayResolution);
    const resolution = period.view === 'day' ? 'PT1H' : 'P1D';
    for (const [el, body] of [
      [this.#qualityCard, this.#quality],
      [this.#settlementCard, this.#settlement],
    ] as const) {
      el.dataset['state'] = 'loading';
      replace(body, [h('p', { class: 'placeholder', text: 'Loading…' })]);
    }
    const fail = (el: HTMLElement, body: HTMLElement) => (error: unknown) => {
      if (isAbort(error)) return;
      el.dataset['state'] = 'error';
      replace(body, [h('div', { class: 'error-box', attrs: { role: 'alert' }, text: describeError(error) })]);
    };
    this.#client
      .get(`${this.#base}/quality`, { from: q.from, to: q.to, quantity }, decodeQuality, controller.signal)
      .then(
        (s) => {
          this.#showQuality(s);
        },
        fail(this.#qualityCard, this.#quality),
      );
    this.#client
      .get(
        `${this.#base}/settlement`,
        { from: q.from, to: q.to, quantity, resolution },
        decodeSettlement,
        controller.signal,
      )
      .then(
        (s) => {
          this.#showSettlement(s, resolution);
        },
        fail(this.#settlementCard, this.#settlement),
      );
  }

  #showQuality(s: QualitySummary): void {
    this.#qualityCard.dataset['state'] = s.intervals === 0 ? 'empty' : 'ready';
    this.#qualityCard.dataset['intervals'] = String(s.intervals);
    if (s.intervals === 0) {
      replace(this.#quality, [
        h('p', { class: 'empty', text: 'Nothing validated in this period yet: a day is validated once it has ended.' }),
      ]);
      return;
    }
    const rows: Child[][] = METER_QUALITIES.map((q) => [q, String(s.counts[q] ?? 0), formatShare(s.shares[q] ?? 0)]);
    replace(this.#quality, [
      table('Intervals by quality', ['Quality', 'Intervals', 'Share'], rows),
      s.rules.length === 0
        ? h('p', { class: 'card-notes', text: 'No validation rule failed.' })
        : table(
            'Validation failures by rule',
            ['Rule', 'Intervals'],
            s.rules.map((r) => [r.rule, String(r.failures)]),
          ),
    ]);
  }

  #showSettlement(s: Settlement, resolution: string): void {
    this.#settlementCard.dataset['state'] = s.rows.length === 0 ? 'empty' : 'ready';
    this.#settlementCard.dataset['status'] = s.status;
    if (s.rows.length === 0) {
      replace(this.#settlement, [h('p', { class: 'empty', text: 'Nothing settled in this period yet.' })]);
      return;
    }
    const currency = s.currency ?? '';
    const when = (ms: number): string =>
      resolution === 'P1D' ? formatDate(ms, s.timeZone) : formatDateTime(ms, s.timeZone, false);
    replace(this.#settlement, [
      h('dl', { class: 'facts settlement-totals' }, [
        h('dt', { text: 'Energy' }),
        h('dd', { text: `${dash(s.totals['energy_kwh'] ?? null)} kWh` }),
        h('dt', { text: 'Cost' }),
        h('dd', { text: `${dash(s.totals['cost'] ?? null)} ${currency}` }),
        h('dt', { text: 'Emissions (lifecycle / direct)' }),
        h('dd', {
          text: `${dash(s.totals['emissions_lifecycle_g'] ?? null)} / ${dash(s.totals['emissions_direct_g'] ?? null)} gCO2eq`,
        }),
        h('dt', { text: 'Status' }),
        h('dd', {}, [
          h('span', {
            class: s.status === 'pending' ? 'badge badge-warn' : 'badge badge-good',
            text: s.status === 'pending' ? 'Pending' : 'Final',
            attrs: {
              title:
                s.status === 'pending'
                  ? 'A price, an intensity or an energy value is still missing: the rows are restated when it arrives'
                  : 'Every period is priced',
            },
          }),
        ]),
      ]),
      h('details', {}, [
        h('summary', { text: 'Exact values per window' }),
        table(
          'Settlement per window',
          ['Start', 'Energy (kWh)', `Cost (${currency})`, 'Lifecycle (g)', 'Direct (g)', 'Status'],
          s.rows.map((r) => [when(r.start), dash(r.energy), dash(r.cost), dash(r.lifecycle), dash(r.direct), r.status]),
        ),
      ]),
    ]);
  }

  destroy(): void {
    this.#controller?.abort();
  }
}
