#!/usr/bin/env node
/**
 * `tsc --noEmit` and `eslint .` on one TypeScript program: the lint's type-aware rules
 * (no-floating-promises) read the types the type-check has already computed, instead of
 * eslint building the same program a second time (about a third of the two commands' CPU).
 * Prints what each would print; exits 1 on a type error or a lint error. `npm run typecheck` and
 * `npm run lint` remain the commands to run one of them alone.
 */
import * as path from 'node:path';
import { ESLint } from 'eslint';
import ts from 'typescript';

const root = path.resolve(import.meta.dirname, '..');
const configPath = path.join(root, 'tsconfig.json');

const parsed = ts.getParsedCommandLineOfConfigFile(
  configPath,
  { noEmit: true },
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
const diagnostics = ts.getPreEmitDiagnostics(program);
if (diagnostics.length) {
  process.stdout.write(
    ts.formatDiagnosticsWithColorAndContext(diagnostics, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => root,
      getNewLine: () => '\n',
    }),
  );
  process.stdout.write(`\ntypecheck: ${diagnostics.length} error(s)\n`);
}

const eslint = new ESLint({
  cwd: root,
  overrideConfig: { languageOptions: { parserOptions: { programs: [program] } } },
});
const results = await eslint.lintFiles(['.']);
const formatter = await eslint.loadFormatter('stylish');
const lintOutput = await formatter.format(results);
if (lintOutput) process.stdout.write(lintOutput);
// As `eslint .`: warnings are printed, errors fail.
const lintErrors = results.reduce((n, r) => n + r.errorCount, 0);

process.exit(diagnostics.length || lintErrors ? 1 : 0);
