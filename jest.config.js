const os = require('node:os');

/** @type {import('jest').Config} */
module.exports = {
  // One worker per core. The suites are CPU-bound (the engine runs on a virtual clock): a
  // third worker on 2 cores made `npm test` slower (279 s against 254 s) for 12 % more CPU.
  maxWorkers: Math.max(1, os.availableParallelism()),
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Type-checking is its own step (`npm run typecheck`): transpile-only here keeps the suite fast.
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: false }],
  },
  setupFiles: ['<rootDir>/test/setup.ts'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  testSequencer: '<rootDir>/test/jest/sequencer.js',
  reporters: ['default', '<rootDir>/test/jest/slowest-reporter.js'],
  // A safety net against a hang, not a measure: the slowest local-engine test (a CLI --local run
  // that provisions three accounts) takes about 40 s on a quiet 2-core machine, more beside others.
  testTimeout: 180000,
};
