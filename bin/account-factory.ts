#!/usr/bin/env node
import { run } from '../cli';

run(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // run() reports every error itself; this is the last resort.
    process.stderr.write(`account-factory: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
