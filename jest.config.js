const os = require('node:os');

/** @type {import('jest').Config} */
module.exports = {
  // The workflow suites spend part of their time waiting on the engine's scaled clock (a CPU
  // profile of one showed its event loop idle about half the time): one worker per core and a
  // half keeps both cores busy (jest's default is one fewer worker than cores: one on 2 cores).
  maxWorkers: Math.max(2, Math.ceil(os.availableParallelism() * 1.5)),
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
