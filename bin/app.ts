#!/usr/bin/env node
import { createApp } from './create-app';

// Context: -c requestsDir=<dir> (default examples/account-requests),
//          -c exampleCustomizations=false (drops the example provisioning customizations).
const { app } = createApp();
app.synth();
