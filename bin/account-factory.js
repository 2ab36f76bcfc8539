#!/usr/bin/env node
// The `account-factory` command: runs bin/account-factory.ts through tsx.
require('tsx/cjs');
require('./account-factory.ts');
