import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AppConfig } from '../../bin/app-config';
import { createApp, type CreateAppOptions } from '../../bin/create-app';
import { FACTORY_ACCOUNT, MANAGEMENT_ACCOUNT, type SynthesizedTemplate, type Topology } from './deployment';
import { LOCAL_REGION, type CfnTemplate } from './template';

export interface SynthOptions {
  /** Adds the example provisioning customizations state machine. @default true */
  readonly exampleCustomizations?: boolean;
  /** @default 'examples/account-requests' */
  readonly requestsDir?: string;
  readonly stackProps?: CreateAppOptions['stackProps'];
  /**
   * Where the factory runs: `delegated`, in a vending account reaching the Control Tower
   * management account through the management role (as AWS recommends for AFT), or
   * `management`, in the management account itself.
   * @default 'delegated'
   */
  readonly topology?: Topology;
}

/** The app configuration of each local topology (the accounts of the emulated landing zone). */
export function localAppConfig(topology: Topology): AppConfig {
  return topology === 'delegated'
    ? {
        topology,
        managementAccountId: MANAGEMENT_ACCOUNT,
        factoryAccountId: FACTORY_ACCOUNT,
        homeRegion: LOCAL_REGION,
      }
    : { topology };
}

/**
 * Synthesizes the app exactly as `cdk synth` does (bin/create-app.ts), bundling
 * skipped (the engine runs the handlers' TypeScript in-process), and returns the
 * factory stack's template.
 */
export function synthTemplate(options: SynthOptions = {}): SynthesizedTemplate {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'account-factory-synth-'));
  const topology = options.topology ?? 'delegated';
  try {
    const { app, stack, managementStack } = createApp({
      config: localAppConfig(topology),
      context: { 'aws:cdk:bundling-stacks': [] },
      nag: false,
      outdir,
      exampleCustomizations: options.exampleCustomizations ?? true,
      requestsDir: options.requestsDir,
      stackProps: options.stackProps,
    });
    const assembly = app.synth();
    const template = assembly.getStackByName(stack.stackName).template as CfnTemplate;
    const target = {
      account: topology === 'delegated' ? FACTORY_ACCOUNT : MANAGEMENT_ACCOUNT,
      region: LOCAL_REGION,
    };
    return {
      ...template,
      localDeployment: {
        topology,
        homeRegion: LOCAL_REGION,
        factory: { template, target },
        management: managementStack && {
          template: assembly.getStackByName(managementStack.stackName).template as CfnTemplate,
          target: { account: MANAGEMENT_ACCOUNT, region: LOCAL_REGION },
        },
      },
    };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
