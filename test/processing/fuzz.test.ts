/**
 * Bounded, seeded fuzzing of the source parsers: every real document of data/entsoe and data/electricitymaps is
 * mutated (byte flips, truncation, duplicated and removed elements, huge numbers, bad dates, giant intervals, bad
 * resolutions and positions) and run through parsing and processing. Asserted for every case: nothing throws, no
 * document takes longer than a bound, every rejection carries a registered reason code and a message (what becomes
 * a dead letter), and every observation produced is valid for grid.observations. Deterministic: one seed
 * (GRIDSTREAM_FUZZ_SEED to explore others), printed with the case on failure.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ERROR_CODES } from '../../src/common/index.ts';
import { gridObservationsTopic } from '../../src/contracts/index.ts';
import type { ProcessedFile } from '../../src/processing/index.ts';
import { PROCESSING_REJECT_CODES, processFileBody } from '../../src/processing/index.ts';
import { loadReference } from '../../src/reference/index.ts';
import { DATA } from '../helpers/fixtures.ts';
import type { Random } from '../helpers/fuzz.ts';
import { fuzzCases, fuzzSeed, int, pick, prng } from '../helpers/fuzz.ts';

const SEED = fuzzSeed(0x5eed_2026);
const CASES_PER_DOCUMENT = fuzzCases(40);
/** Hang guard per document (not a performance claim): the slowest real document takes a few ms. */
const MAX_MS_PER_DOCUMENT = 5_000;

const reference = loadReference();

const HUGE_NUMBERS = [
  '1e309',
  '-1e309',
  '1e-400',
  '99999999999999999999999999999',
  'NaN',
  'Infinity',
  '-0',
  '0x1F',
  '1_000',
  '',
];
const BAD_DATES = [
  '0000-01-01T00:00Z',
  '2024-13-45T99:99Z',
  '99999-01-01T00:00Z',
  '2024-02-30T00:00Z',
  '1970-01-01T00:00Z',
  '9999-12-31T23:59Z',
  'yesterday',
  '',
];
const BAD_RESOLUTIONS = ['PT0M', 'P0D', 'PT-15M', 'PT1S', 'PT1M', 'P1Y', 'P99999D', 'PT15', 'garbage'];
const BAD_POSITIONS = ['0', '-1', '2147483648', '1e9', '1.5', '999999', ''];

/** One mutation of a text; returns the mutated text and what was done. */
type Mutation = (text: string, random: Random) => [string, string];

/** Replaces the text of the n-th (random) element `name` with `value`. */
function replaceElementText(text: string, name: RegExp, value: string, random: Random): string {
  const matches = [...text.matchAll(name)];
  if (matches.length === 0) return text;
  const m = pick(random, matches);
  const index = m.index;
  return `${text.slice(0, index)}${m[1] ?? ''}${value}${m[3] ?? ''}${text.slice(index + m[0].length)}`;
}

/** The n-th element `tag` (with its content) as [start, end), or undefined. */
function elementSpan(text: string, tag: string, random: Random): [number, number] | undefined {
  const opens = [...text.matchAll(new RegExp(`<(\\w+:)?${tag}[\\s>]`, 'g'))];
  if (opens.length === 0) return undefined;
  const open = pick(random, opens);
  const close = text.indexOf(`${tag}>`, open.index + 1);
  const closeTag = text.lastIndexOf('</', close);
  if (close === -1 || closeTag < open.index) return undefined;
  return [open.index, close + tag.length + 1];
}

const XML_MUTATIONS: readonly Mutation[] = [
  (text, r) => {
    const bytes = Buffer.from(text);
    const flips = 1 + int(r, 8);
    for (let i = 0; i < flips; i++) {
      const at = int(r, bytes.length);
      bytes[at] = (bytes[at] ?? 0) ^ (1 << int(r, 8));
    }
    return [bytes.toString('latin1'), `${flips} bit flips`];
  },
  (text, r) => {
    const at = int(r, text.length);
    return [text.slice(0, at), `truncated at ${at}`];
  },
  (text, r) => {
    const tag = pick(r, ['Point', 'Period', 'TimeSeries', 'timeInterval', 'resolution', 'position']);
    const span = elementSpan(text, tag, r);
    if (span === undefined) return [text, `no ${tag} to duplicate`];
    const copies = 1 + int(r, 3);
    return [
      text.slice(0, span[1]) + text.slice(span[0], span[1]).repeat(copies) + text.slice(span[1]),
      `${tag} duplicated ×${copies}`,
    ];
  },
  (text, r) => {
    const tag = pick(r, [
      'Point',
      'Period',
      'TimeSeries',
      'timeInterval',
      'resolution',
      'position',
      'quantity',
      'mRID',
      'curveType',
      'start',
      'end',
    ]);
    const span = elementSpan(text, tag, r);
    if (span === undefined) return [text, `no ${tag} to remove`];
    return [text.slice(0, span[0]) + text.slice(span[1]), `${tag} removed`];
  },
  (text, r) => {
    const value = pick(r, HUGE_NUMBERS);
    return [
      replaceElementText(text, /(<(?:\w+:)?(?:quantity|price\.amount)>)([^<]*)(<\/)/g, value, r),
      `value ${value}`,
    ];
  },
  (text, r) => {
    const value = pick(r, BAD_DATES);
    return [replaceElementText(text, /(<(?:\w+:)?(?:start|end)>)([^<]*)(<\/)/g, value, r), `date ${value}`];
  },
  (text, r) => {
    // A giant interval at a tiny resolution in one or every Period.
    const every = r() < 0.5;
    let out = text.replace(
      every ? /(<(?:\w+:)?end>)[^<]*(<\/)/g : /(<(?:\w+:)?end>)[^<]*(<\/)/,
      '$19999-12-31T23:00Z$2',
    );
    out = out.replace(every ? /(<(?:\w+:)?resolution>)[^<]*(<\/)/g : /(<(?:\w+:)?resolution>)[^<]*(<\/)/, '$1PT1M$2');
    return [out, `giant interval (${every ? 'every' : 'first'} Period)`];
  },
  (text, r) => {
    const value = pick(r, BAD_RESOLUTIONS);
    return [replaceElementText(text, /(<(?:\w+:)?resolution>)([^<]*)(<\/)/g, value, r), `resolution ${value}`];
  },
  (text, r) => {
    const value = pick(r, BAD_POSITIONS);
    return [replaceElementText(text, /(<(?:\w+:)?position>)([^<]*)(<\/)/g, value, r), `position ${value}`];
  },
  (text, r) => {
    const value = pick(r, ['A02', 'A04', '', 'A03']);
    return [replaceElementText(text, /(<(?:\w+:)?curveType>)([^<]*)(<\/)/g, value, r), `curveType ${value}`];
  },
  (text, r) => {
    const junk = pick(r, [
      '<!DOCTYPE x [<!ENTITY a "b">]>',
      '<![CDATA[x]]>',
      '&amp;&lt;',
      '\u0000',
      '<?pi x?>',
      '<x/>',
      ']]>',
      '\uFFFF',
    ]);
    const at = int(r, text.length);
    return [text.slice(0, at) + junk + text.slice(at), `inserted ${JSON.stringify(junk)} at ${at}`];
  },
];

/** Mutations of a JSON value (Electricity Maps): structural, then serialised. */
function mutateJson(value: unknown, r: Random): [unknown, string] {
  type Slot =
    | { readonly parent: unknown[]; readonly key: number }
    | { readonly parent: Record<string, unknown>; readonly key: string };
  const slots: Slot[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      const list: unknown[] = v;
      list.forEach((x, i) => {
        slots.push({ parent: list, key: i });
        walk(x);
      });
    } else if (v !== null && typeof v === 'object') {
      const record = v as Record<string, unknown>;
      for (const [k, x] of Object.entries(record)) {
        slots.push({ parent: record, key: k });
        walk(x);
      }
    }
  };
  const copy: unknown = structuredClone(value);
  walk(copy);
  if (slots.length === 0) return [copy, 'nothing to mutate'];
  const target = pick(r, slots);
  const replacement: unknown = pick<unknown>(r, [
    null,
    1e308,
    -1e308,
    Number.MAX_SAFE_INTEGER * 1000,
    -1,
    0,
    'NaN',
    '',
    '0000-01-01T00:00:00.000Z',
    '2024-13-45T99:99:99Z',
    '9999-12-31T23:59:59.999Z',
    [],
    {},
    true,
    'x'.repeat(10_000),
  ]);
  const shown = (JSON.stringify(replacement) as string | undefined)?.slice(0, 30) ?? 'undefined';
  const action = int(r, 3);
  if (action === 1) {
    if (Array.isArray(target.parent)) target.parent.splice(target.key as number, 1);
    else Reflect.deleteProperty(target.parent, target.key);
    return [copy, `${String(target.key)} removed`];
  }
  if (action === 2 && Array.isArray(target.parent)) {
    const list = target.parent;
    const index = target.key as number;
    const copies = 1 + int(r, 50);
    const clones: unknown[] = Array.from({ length: copies }, (): unknown => structuredClone(list[index]));
    list.splice(index, 0, ...clones);
    return [copy, `${String(target.key)} duplicated ×${copies}`];
  }
  if (Array.isArray(target.parent)) target.parent[target.key as number] = replacement;
  else target.parent[target.key as string] = replacement;
  return [copy, `${String(target.key)} = ${shown}`];
}

const REGISTERED = new Set<string>(PROCESSING_REJECT_CODES);

/** Runs one case and returns the problems found (empty: fine). */
function check(body: Buffer, name: string): { problems: string[]; ms: number } {
  const problems: string[] = [];
  const started = performance.now();
  let result: ProcessedFile;
  try {
    result = processFileBody(body, name, reference);
  } catch (error) {
    return { problems: [`threw ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`], ms: 0 };
  }
  const ms = performance.now() - started;
  if (ms > MAX_MS_PER_DOCUMENT) problems.push(`took ${Math.round(ms)} ms`);
  for (const r of result.rejects) {
    if (!REGISTERED.has(r.code) || !(r.code in ERROR_CODES)) problems.push(`unregistered reason ${r.code}`);
    if (typeof r.message !== 'string' || r.message.trim() === '') problems.push(`reason ${r.code} without a message`);
  }
  for (const c of result.chunks) {
    const valid = gridObservationsTopic.schema.safeParse(c);
    if (!valid.success) {
      problems.push(
        `invalid observation chunk: ${valid.error.issues
          .map((i) => `${i.path.join('.')}: ${i.message}`)
          .join('; ')
          .slice(0, 300)}`,
      );
      break;
    }
  }
  return { problems, ms };
}

describe(`fuzz: mutated real documents never crash, hang or vanish (seed ${SEED})`, () => {
  it(`ENTSO-E: ${CASES_PER_DOCUMENT} mutations of each document in data/entsoe`, { timeout: 120_000 }, (t) => {
    const random = prng(SEED);
    const files = readdirSync(join(DATA, 'entsoe'))
      .filter((f) => f.endsWith('.xml'))
      .sort();
    const failures: string[] = [];
    let cases = 0;
    let slowest = 0;
    for (const file of files) {
      const text = readFileSync(join(DATA, 'entsoe', file), 'utf8');
      for (let i = 0; i < CASES_PER_DOCUMENT; i++) {
        // Mostly one mutation, sometimes several stacked.
        let mutated = text;
        const done: string[] = [];
        for (let k = 0, n = random() < 0.8 ? 1 : 2 + int(random, 3); k < n; k++) {
          const [next, what] = pick(random, XML_MUTATIONS)(mutated, random);
          mutated = next;
          done.push(what);
        }
        const { problems, ms } = check(Buffer.from(mutated, 'latin1'), file);
        slowest = Math.max(slowest, ms);
        cases++;
        if (problems.length > 0)
          failures.push(`seed ${SEED} ${file} case ${i} [${done.join(', ')}]: ${problems.join(' | ')}`);
      }
    }
    t.diagnostic(`${cases} cases over ${files.length} documents, slowest ${Math.round(slowest)} ms`);
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} failing cases (seed ${SEED})`);
  });

  it(
    `Electricity Maps: ${CASES_PER_DOCUMENT * 3} mutations of each document in data/electricitymaps`,
    { timeout: 120_000 },
    (t) => {
      const random = prng(SEED ^ 0x9e3779b9);
      const files = readdirSync(join(DATA, 'electricitymaps'))
        .filter((f) => f.endsWith('.json'))
        .sort();
      const failures: string[] = [];
      let cases = 0;
      let slowest = 0;
      for (const file of files) {
        const text = readFileSync(join(DATA, 'electricitymaps', file), 'utf8');
        const json: unknown = JSON.parse(text);
        for (let i = 0; i < CASES_PER_DOCUMENT * 3; i++) {
          let body: Buffer;
          let what: string;
          const kind = int(random, 4);
          if (kind === 0) {
            const at = int(random, text.length);
            body = Buffer.from(text.slice(0, at));
            what = `truncated at ${at}`;
          } else if (kind === 1) {
            const bytes = Buffer.from(text);
            const at = int(random, bytes.length);
            bytes[at] = (bytes[at] ?? 0) ^ (1 << int(random, 8));
            body = bytes;
            what = `bit flip at ${at}`;
          } else {
            let value = json;
            const done: string[] = [];
            for (let k = 0; k < kind; k++) {
              const [next, d] = mutateJson(value, random);
              value = next;
              done.push(d);
            }
            body = Buffer.from(JSON.stringify(value));
            what = done.join(', ');
          }
          const { problems, ms } = check(body, file);
          slowest = Math.max(slowest, ms);
          cases++;
          if (problems.length > 0) failures.push(`seed ${SEED} ${file} case ${i} [${what}]: ${problems.join(' | ')}`);
        }
      }
      t.diagnostic(`${cases} cases over ${files.length} documents, slowest ${Math.round(slowest)} ms`);
      assert.deepEqual(failures.slice(0, 10), [], `${failures.length} failing cases (seed ${SEED})`);
    },
  );
});
