import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_STREAM_JOB_SETTINGS,
  LATE_POLICIES,
  classifyLateness,
  parseLatePolicy,
  parseStreamJobSettings,
} from '../../src/streams/index.ts';

const DAY = 86_400_000;
const END = Date.parse('2026-10-25T23:00Z');
const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

describe('classifyLateness', () => {
  it('is on time while the watermark has not reached the window end, or there is no watermark', () => {
    assert.equal(classifyLateness(END, undefined, 0), 'on-time');
    assert.equal(classifyLateness(END, END - 1, 7 * DAY), 'on-time');
  });
  it('is late from the moment the window is emitted (watermark = end) up to and including the allowed lateness', () => {
    assert.equal(classifyLateness(END, END, 7 * DAY), 'late');
    assert.equal(classifyLateness(END, END + 7 * DAY, 7 * DAY), 'late');
    assert.equal(classifyLateness(END, END + 7 * DAY + 1, 7 * DAY), 'too-late');
  });
  it('with no allowed lateness, restates only a record that arrives exactly as the window is emitted', () => {
    assert.equal(classifyLateness(END, END, 0), 'late');
    assert.equal(classifyLateness(END, END + 1, 0), 'too-late');
  });
});

describe('late policies and job settings', () => {
  it('reads each late policy and refuses anything else with a code', () => {
    for (const p of LATE_POLICIES) assert.equal(parseLatePolicy(p), p);
    assert.throws(() => parseLatePolicy('drop'), code('streams.invalid_settings'));
    assert.throws(() => parseLatePolicy('Restate'), code('streams.invalid_settings'));
  });
  it('fills in the documented defaults', () => {
    assert.deepEqual(parseStreamJobSettings(undefined), {
      boundMs: 15 * 60_000,
      idleTimeoutMs: 15 * 60_000,
      clockToleranceMs: 5 * 60_000,
      allowedLatenessMs: 7 * DAY,
      latePolicy: 'dead-letter',
    });
    assert.deepEqual(parseStreamJobSettings({}), DEFAULT_STREAM_JOB_SETTINGS);
    assert.deepEqual(parseStreamJobSettings({ boundMs: 0, latePolicy: 'restate' }), {
      ...DEFAULT_STREAM_JOB_SETTINGS,
      boundMs: 0,
      latePolicy: 'restate',
    });
  });
  it('names every field at fault at once, and refuses unknown fields', () => {
    let thrown: unknown;
    try {
      parseStreamJobSettings({ boundMs: -1, idleTimeoutMs: 0, allowedLatenessMs: 1.5, latePolicy: 'drop' });
    } catch (e) {
      thrown = e;
    }
    assert.ok(code('streams.invalid_settings')(thrown));
    const message = (thrown as Error).message;
    for (const field of ['boundMs', 'idleTimeoutMs', 'allowedLatenessMs', 'latePolicy'])
      assert.match(message, new RegExp(field));
    assert.throws(() => parseStreamJobSettings({ bound: 1 }), code('streams.invalid_settings'));
    assert.throws(() => parseStreamJobSettings({ clockToleranceMs: Infinity }), code('streams.invalid_settings'));
    assert.throws(() => parseStreamJobSettings('15m'), code('streams.invalid_settings'));
  });
});
