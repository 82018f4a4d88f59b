/**
 * `npm run docs`: regenerates the parts of the documentation that come from one declaration in the code — the
 * README's configuration table (src/config) and docs/ERROR-CODES.md (src/common/error-codes.ts). Tests fail when
 * the files and the code disagree, so a change to either is made here, not by hand.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorCodesMarkdown } from '../src/common/index.ts';
import { configTableMarkdown } from '../src/config/index.ts';

const ROOT = join(import.meta.dirname, '..');

export const ERROR_CODES_INTRO = `# Error and reason codes

Every error gridstream raises and every reason a dead letter carries is one of these codes, declared once in
\`src/common/error-codes.ts\` (this page is generated from it by \`npm run docs\`; a test keeps the two equal). A code
names its system (\`kafka.timeout\`, \`http.timeout\`, \`entsoe.banned\`) because codes end up in metric labels,
dead-letter reasons and API problems. *Retryable* is the default: whether the same operation may succeed later (a
caller may say otherwise for one error: an HTTP status is retryable for 5xx only). The *old name* is what a code was
called before codes were namespaced: dead letters stored with it, \`gridstream dlq list --filter reason=<old name>\`,
the admin API's \`reason=\` filter and dashboards keep working with it.
`;

/** docs/ERROR-CODES.md as generated from the registry. */
export function errorCodesPage(): string {
  return `${ERROR_CODES_INTRO}\n${errorCodesMarkdown()}\n`;
}

/** README.md with its configuration table replaced by the generated one. */
export function readmeWithConfigTable(readme: string): string {
  const start = readme.indexOf('| variable | default | meaning |');
  const end = readme.indexOf('\n\n', start);
  if (start < 0 || end < 0) throw new Error('README.md has no configuration table');
  return `${readme.slice(0, start)}${configTableMarkdown()}${readme.slice(end)}`;
}

if (import.meta.main) {
  writeFileSync(join(ROOT, 'docs', 'ERROR-CODES.md'), errorCodesPage());
  const readme = join(ROOT, 'README.md');
  writeFileSync(readme, readmeWithConfigTable(readFileSync(readme, 'utf8')));
  process.stdout.write('wrote docs/ERROR-CODES.md and the configuration table of README.md\n');
}
