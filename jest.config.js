/** @type {import('jest').Config} */
module.exports = {
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
  testTimeout: 60000,
};
