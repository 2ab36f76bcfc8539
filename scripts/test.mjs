#!/usr/bin/env node
/**
 * `npm test`: the static checks (types, lint, formatting) and the jest suite at once,
 * in two lanes. The static lane's output is held back and printed when it ends, so
 * jest's progress stays readable; the run fails if either lane fails. Arguments go to
 * jest (`npm test -- test/lib`).
 */
import { spawn } from 'node:child_process';

const jestArgs = process.argv.slice(2);
const STATIC_CHECKS = [
  // tsc --noEmit and eslint . on one TypeScript program (scripts/typecheck-and-lint.mjs).
  ['typecheck and lint', 'node', ['scripts/typecheck-and-lint.mjs']],
  ['format', 'npx', ['prettier', '--check', '.']],
];

function run(command, args, { quiet }) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    if (quiet) {
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
    }
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

async function staticLane() {
  const started = Date.now();
  for (const [name, command, args] of STATIC_CHECKS) {
    const { code, output } = await run(command, args, { quiet: true });
    if (code !== 0) {
      process.stderr.write(`\n${name} failed:\n${output}\n`);
      return false;
    }
  }
  process.stderr.write(
    `\nStatic checks passed (typecheck, lint, format) in ${Math.round((Date.now() - started) / 1000)} s\n`,
  );
  return true;
}

const [staticOk, jest] = await Promise.all([
  staticLane(),
  run('npx', ['jest', ...jestArgs], { quiet: false }),
]);
process.exit(staticOk && jest.code === 0 ? 0 : 1);
