// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { dirname, relative, resolve, sep } from 'node:path';

const SRC = resolve(import.meta.dirname, 'src');

/** The module a file under src/ belongs to: its top folder, or `connectors/<source>`. */
function moduleOf(file) {
  const parts = relative(SRC, file).split(sep);
  if (parts[0] === 'connectors' && parts.length > 2) return `connectors/${parts[1]}`;
  return parts.length > 1 ? parts[0] : '';
}

/**
 * Imports between modules of src/ go through the other module's `index.ts` (its public face), never into its
 * files: a module can then move things around inside without breaking its neighbours.
 */
const indexImports = {
  meta: {
    type: 'problem',
    messages: {
      deep: "Import {{target}} through its module's index.ts ({{module}}/index.ts), not one of its files.",
    },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    if (!file.startsWith(SRC + sep)) return {};
    const own = moduleOf(file);
    const check = (source) => {
      if (source === null || source === undefined || typeof source.value !== 'string') return;
      if (!source.value.startsWith('.')) return;
      const target = resolve(dirname(file), source.value);
      if (!target.startsWith(SRC + sep)) return;
      const module = moduleOf(target);
      if (module === own || module === '') return;
      if (relative(SRC, target).split(sep).join('/') === `${module}/index.ts`) return;
      context.report({ node: source, messageId: 'deep', data: { target: source.value, module } });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
    };
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.gridstream/**', 'web/dist/**', 'coverage/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { gridstream: { rules: { 'index-imports': indexImports } } },
    rules: {
      'gridstream/index-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
        { selector: 'TSEnumDeclaration', message: 'Use an `as const` object and a derived union.' },
      ],
    },
  },
  {
    // Only the entry points may read the environment.
    files: ['src/**/*.ts'],
    ignores: ['src/bin/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read the environment only in src/bin/ and pass config down.' },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.js'], languageOptions: { globals: { ...globals.node } } },
);
