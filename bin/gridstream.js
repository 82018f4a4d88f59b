#!/usr/bin/env node
// gridstream is TypeScript run directly by Node 24 (type stripping). Fail clearly on older runtimes.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `gridstream needs Node.js 24 or newer (this is ${process.version}).\n` +
      'Run it through npm (npm start / npx gridstream), which uses the Node 24 that `npm ci` installs,\n' +
      'or put a Node 24 binary first on PATH.\n',
  );
  process.exit(1);
}
await import('../src/bin/gridstream.ts');
