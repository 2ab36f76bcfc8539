import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createApp, type CreateAppOptions } from '../../bin/create-app';
import type { CfnTemplate } from './template';

export interface SynthOptions {
  /** Adds the example provisioning customizations state machine. @default true */
  readonly exampleCustomizations?: boolean;
  /** @default 'examples/account-requests' */
  readonly requestsDir?: string;
  readonly stackProps?: CreateAppOptions['stackProps'];
}

/**
 * Synthesizes the app exactly as `cdk synth` does (bin/create-app.ts), bundling
 * skipped (the engine runs the handlers' TypeScript in-process), and returns the
 * factory stack's template.
 */
export function synthTemplate(options: SynthOptions = {}): CfnTemplate {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'account-factory-synth-'));
  try {
    const { app, stack } = createApp({
      context: { 'aws:cdk:bundling-stacks': [] },
      nag: false,
      outdir,
      exampleCustomizations: options.exampleCustomizations ?? true,
      requestsDir: options.requestsDir,
      stackProps: options.stackProps,
    });
    const assembly = app.synth();
    return assembly.getStackByName(stack.stackName).template as CfnTemplate;
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
