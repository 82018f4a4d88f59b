import type { Zone } from './api-types.ts';
import { h, uid } from './dom.ts';
import type { RangeChoice, TimeRange } from './time-range.ts';
import { PRESETS, PRESET_DAYS, isIsoDate, isPreset, localDate } from './time-range.ts';

/** The range in the address (`?range=3d`, or `?from=…&to=…`, swapped when reversed); one day by default. */
export function choiceFrom(params: URLSearchParams): RangeChoice {
  const from = params.get('from');
  const to = params.get('to');
  if (from !== null && to !== null && isIsoDate(from) && isIsoDate(to)) return customChoice(from, to);
  const range = params.get('range');
  return { kind: 'preset', preset: range !== null && isPreset(range) ? range : '1d' };
}

/** Inclusive local dates, in order. */
export function customChoice(from: string, to: string): RangeChoice {
  return from <= to ? { kind: 'custom', from, to } : { kind: 'custom', from: to, to: from };
}

/** Writes the choice into address parameters (the inverse of {@link choiceFrom}). */
export function writeChoice(params: URLSearchParams, choice: RangeChoice): void {
  if (choice.kind === 'preset') params.set('range', choice.preset);
  else {
    params.set('from', choice.from);
    params.set('to', choice.to);
  }
}

/**
 * The range control of the zone page: 1/3/7 days (ending at the zone's latest data) as a segmented radio group,
 * and "Custom" opening a from/to date form. Reports a choice the user made; {@link show} reflects one made elsewhere.
 */
export class RangePicker {
  /** The radio group and the custom form, placed side by side in the page's toolbar. */
  readonly elements: readonly HTMLElement[];
  readonly #radios = new Map<string, HTMLInputElement>();
  readonly #customForm: HTMLFormElement;
  readonly #fromInput: HTMLInputElement;
  readonly #toInput: HTMLInputElement;
  readonly #onChoice: (choice: RangeChoice) => void;
  /** What "Custom" starts from: the zone and the range on screen. */
  #shown: { readonly zone: Zone; readonly range: TimeRange } | undefined;

  constructor(onChoice: (choice: RangeChoice) => void) {
    this.#onChoice = onChoice;
    const name = uid('range');
    const radios = [
      ...PRESETS.map((p) => ({ value: p, label: `${PRESET_DAYS[p]} day${PRESET_DAYS[p] === 1 ? '' : 's'}` })),
      { value: 'custom', label: 'Custom' },
    ].map(({ value, label }) => {
      const input = h('input', {
        attrs: { type: 'radio', name, value },
        on: {
          change: () => {
            this.#onRadio(value);
          },
        },
      });
      this.#radios.set(value, input);
      return h('label', { class: 'segment' }, [input, h('span', { text: label })]);
    });
    const fromId = uid('from');
    const toId = uid('to');
    this.#fromInput = h('input', { attrs: { type: 'date', id: fromId, name: 'from', required: true } });
    this.#toInput = h('input', { attrs: { type: 'date', id: toId, name: 'to', required: true } });
    this.#customForm = h(
      'form',
      {
        class: 'custom-range',
        attrs: { hidden: true, 'aria-label': 'Custom range' },
        on: {
          submit: (event) => {
            event.preventDefault();
            this.#applyCustom();
          },
        },
      },
      [
        h('label', { attrs: { for: fromId }, text: 'From' }),
        this.#fromInput,
        h('label', { attrs: { for: toId }, text: 'To' }),
        this.#toInput,
        h('button', { class: 'button', attrs: { type: 'submit' }, text: 'Apply' }),
      ],
    );
    this.elements = [
      h('fieldset', { class: 'segments' }, [h('legend', { text: 'Range' }), ...radios]),
      this.#customForm,
    ];
  }

  /** Reflects `choice` in the controls. */
  show(choice: RangeChoice): void {
    const input = this.#radios.get(choice.kind === 'preset' ? choice.preset : 'custom');
    if (input !== undefined) input.checked = true;
    this.#customForm.hidden = choice.kind !== 'custom';
    if (choice.kind === 'custom') {
      this.#fromInput.value = choice.from;
      this.#toInput.value = choice.to;
    }
  }

  /** The zone and range on screen: the date inputs are bounded by the zone's data. */
  showRange(zone: Zone, range: TimeRange): void {
    this.#shown = { zone, range };
    this.#fromInput.min = localDate(zone.firstSlot, zone.timeZone);
    this.#toInput.max = localDate(zone.lastSlot, zone.timeZone);
  }

  #onRadio(value: string): void {
    if (isPreset(value)) {
      const choice: RangeChoice = { kind: 'preset', preset: value };
      this.show(choice);
      this.#onChoice(choice);
      return;
    }
    // Custom: start from the range shown, let the user edit and apply.
    const shown = this.#shown;
    if (shown !== undefined) {
      this.#fromInput.value = localDate(shown.range.from, shown.zone.timeZone);
      this.#toInput.value = localDate(shown.range.to - 1, shown.zone.timeZone);
    }
    this.#customForm.hidden = false;
    this.#fromInput.focus();
  }

  #applyCustom(): void {
    const from = this.#fromInput.value;
    const to = this.#toInput.value;
    if (!isIsoDate(from) || !isIsoDate(to)) return;
    const choice = customChoice(from, to);
    this.show(choice);
    this.#onChoice(choice);
  }
}
