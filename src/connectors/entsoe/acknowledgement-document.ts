/*
 * Acknowledgement_MarketDocument (urn:iec62325.351:tc57wg16:451-1:acknowledgementdocument:7:0): the service's
 * reply when it has nothing to return or refuses the request, usually with HTTP 200 (no data) or 400:
 *
 *   <Acknowledgement_MarketDocument>
 *     <mRID/> <createdDateTime/> <sender_…/> <receiver_…/> <received_MarketDocument.createdDateTime/>
 *     <Reason>+  <code>999</code>  <text>No matching data found for Data item …</text>
 */
import { parseUtc } from '../../time/index.ts';
import type { EntsoeAcknowledgement } from './document.ts';
import type { XmlHandler } from './xml-body.ts';

export const ACKNOWLEDGEMENT_ROOT = 'Acknowledgement_MarketDocument';

export class AcknowledgementReader implements XmlHandler {
  #stack: string[] = [];
  #text = '';
  #mRID: string | null = null;
  #createdAt: number | null = null;
  #reasons: { code: string; text: string }[] = [];
  #reason: { code: string; text: string } | undefined;

  open(name: string): void {
    this.#text = '';
    const depth = this.#stack.push(name);
    if (depth === 2 && name === 'Reason') this.#reason = { code: '', text: '' };
  }

  text(text: string): void {
    this.#text += text;
  }

  close(name: string): void {
    const depth = this.#stack.length;
    this.#stack.pop();
    const text = this.#text.trim();
    this.#text = '';
    if (depth === 2) {
      if (name === 'mRID') this.#mRID = text;
      else if (name === 'createdDateTime') this.#createdAt = parseUtc(text) ?? null;
      else if (name === 'Reason' && this.#reason !== undefined) {
        this.#reasons.push(this.#reason);
        this.#reason = undefined;
      }
    } else if (depth === 3 && this.#reason !== undefined) {
      if (name === 'code') this.#reason.code = text;
      else if (name === 'text') this.#reason.text = text;
    }
  }

  result(): EntsoeAcknowledgement {
    return { mRID: this.#mRID, createdAt: this.#createdAt, reasons: this.#reasons };
  }
}
