/**
 * Builds the dashboard: `web/src` (TypeScript + CSS) bundled and minified by esbuild into `web/dist/assets/` with
 * content-hashed names, and `web/index.html` rewritten to reference them as `web/dist/index.html`.
 *
 *   node scripts/build-web.ts              build
 *   node scripts/build-web.ts --if-stale   build only when a source is newer than web/dist/index.html
 *
 * Exits 1 on a build error (messages on stderr). Prints one summary line with the sizes (raw and gzipped).
 */
import { build } from 'esbuild';
import type { Message, Metafile } from 'esbuild';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WEB = join(ROOT, 'web');
const SRC = join(WEB, 'src');
const DIST = join(WEB, 'dist');
const ASSETS = join(DIST, 'assets');
const TEMPLATE = join(WEB, 'index.html');
const ENTRIES = { app: join(SRC, 'main.ts'), styles: join(SRC, 'styles.css') } as const;
/** Template references replaced by the hashed outputs. */
const REFERENCES = { app: './src/main.ts', styles: './src/styles.css' } as const;

/** Everything the output depends on besides web/src: the template, this script, the bundled packages. */
const EXTRA_INPUTS = [
  TEMPLATE,
  fileURLToPath(import.meta.url),
  join(ROOT, 'node_modules', 'uplot', 'package.json'),
  join(ROOT, 'node_modules', 'esbuild', 'package.json'),
];

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestSource(path));
    else newest = Math.max(newest, (await stat(path)).mtimeMs);
  }
  return newest;
}

/** True when web/dist/index.html exists, its assets exist, and it is newer than every input. */
async function upToDate(): Promise<boolean> {
  const index = join(DIST, 'index.html');
  if (!existsSync(index)) return false;
  const html = await readFile(index, 'utf8');
  const assets = [...html.matchAll(/(?:src|href)="\/assets\/([^"]+)"/g)].map((m) => m[1] ?? '');
  if (assets.length < 2 || assets.some((a) => !existsSync(join(ASSETS, a)))) return false;
  const built = (await stat(index)).mtimeMs;
  let newest = await newestSource(SRC);
  for (const path of EXTRA_INPUTS) if (existsSync(path)) newest = Math.max(newest, (await stat(path)).mtimeMs);
  return built > newest;
}

function formatMessages(messages: readonly Message[]): string {
  return messages
    .map((m) => {
      const at = m.location === null ? '' : `${m.location.file}:${m.location.line}:${m.location.column}: `;
      return `${at}${m.text}`;
    })
    .join('\n');
}

function outputFor(metafile: Metafile, entry: string, extension: string): string {
  // esbuild names entry points relative to the working directory after resolving symbolic links.
  const wanted = realpathSync(entry);
  for (const [path, output] of Object.entries(metafile.outputs)) {
    if (output.entryPoint === undefined || !path.endsWith(extension)) continue;
    const source = resolve(ROOT, output.entryPoint);
    if (existsSync(source) && realpathSync(source) === wanted) return basename(path);
  }
  throw new Error(`no ${extension} output for ${relative(ROOT, entry)}`);
}

async function main(): Promise<number> {
  const ifStale = process.argv.includes('--if-stale');
  if (ifStale && (await upToDate())) {
    process.stdout.write('web/dist is up to date\n');
    return 0;
  }
  const started = performance.now();
  await mkdir(ASSETS, { recursive: true });
  let result;
  try {
    result = await build({
      absWorkingDir: ROOT,
      entryPoints: ENTRIES,
      bundle: true,
      minify: true,
      format: 'esm',
      target: ['es2022', 'chrome111', 'firefox115', 'safari16.4'],
      outdir: ASSETS,
      entryNames: '[name]-[hash]',
      assetNames: '[name]-[hash]',
      sourcemap: 'linked',
      legalComments: 'eof',
      metafile: true,
      write: true,
      logLevel: 'silent',
      charset: 'utf8',
    });
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    process.stderr.write(`dashboard build failed:\n${errors === undefined ? String(error) : formatMessages(errors)}\n`);
    return 1;
  }
  if (result.warnings.length > 0)
    process.stderr.write(`dashboard build warnings:\n${formatMessages(result.warnings)}\n`);
  const js = outputFor(result.metafile, ENTRIES.app, '.js');
  const css = outputFor(result.metafile, ENTRIES.styles, '.css');

  let html = await readFile(TEMPLATE, 'utf8');
  for (const [name, file] of [
    ['app', js],
    ['styles', css],
  ] as const) {
    const reference = REFERENCES[name];
    if (!html.includes(`"${reference}"`)) {
      process.stderr.write(`dashboard build failed: web/index.html does not reference "${reference}"\n`);
      return 1;
    }
    html = html.replace(`"${reference}"`, `"/assets/${file}"`);
  }
  // Replace index.html in one step (a server reading it meanwhile sees the old or the new one).
  const tmp = join(DIST, `.index.html.${process.pid}`);
  await writeFile(tmp, html);
  await rename(tmp, join(DIST, 'index.html'));

  // Drop the assets of earlier builds.
  const keep = new Set(Object.keys(result.metafile.outputs).map((p) => basename(p)));
  for (const file of await readdir(ASSETS)) if (!keep.has(file)) await rm(join(ASSETS, file), { force: true });

  const sizes = await Promise.all(
    [js, css].map(async (file) => {
      const bytes = await readFile(join(ASSETS, file));
      return { file, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
    }),
  );
  const summary = sizes.map((s) => `${s.file} ${s.bytes} B (${s.gzip} B gzipped)`).join(', ');
  process.stdout.write(`dashboard built in ${Math.round(performance.now() - started)} ms: ${summary}\n`);
  return 0;
}

process.exitCode = await main();
