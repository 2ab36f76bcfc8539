#!/usr/bin/env node
// The repository's `account-factory` command: runs bin/account-factory.ts through tsx. The published package's bin is the compiled dist/bin/account-factory.js.
require('tsx/cjs');
require('./account-factory.ts');
