import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DATA } from './fixtures.ts';

export function emapsFixtureNames(): string[] {
  return readdirSync(join(DATA, 'electricitymaps'))
    .filter((f) => f.endsWith('.json'))
    .sort();
}
export function emapsFixture(name: string): unknown {
  return JSON.parse(readFileSync(join(DATA, 'electricitymaps', name), 'utf8'));
}
