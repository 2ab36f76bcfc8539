import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExampleProvisioningCustomizations } from '../examples/provisioning-customizations';
import { AccountFactoryStack, AccountFactoryStackProps } from '../lib/account-factory-stack';
import { loadRequestFiles } from '../lib/request-files';

/** The repository root (bin/ is one level down). */
const REPO_ROOT = path.join(__dirname, '..');

export interface CreateAppOptions {
  /**
   * Context of the App (e.g. `{ 'aws:cdk:bundling-stacks': [] }` to skip bundling).
   * Also where `requestsDir` and `exampleCustomizations` are read from when not given.
   * @default - the context of the CDK CLI (cdk.json, -c)
   */
  readonly context?: Record<string, unknown>;
  /**
   * The directory of the account request files, relative to the repository root
   * or absolute.
   * @default - context `requestsDir`, else 'examples/account-requests'
   */
  readonly requestsDir?: string;
  /**
   * Adds the example provisioning customizations state machine.
   * @default - context `exampleCustomizations`, else true
   */
  readonly exampleCustomizations?: boolean;
  /**
   * Runs the cdk-nag AwsSolutions checks at synth (a finding fails the synth).
   * @default true
   */
  readonly nag?: boolean;
  /**
   * The cloud assembly directory.
   * @default - the CLI's, or a temporary directory
   */
  readonly outdir?: string;
  /**
   * Stack properties (env, tags, factory settings).
   * @default - an environment-agnostic stack with the factory's defaults
   */
  readonly stackProps?: Omit<AccountFactoryStackProps, 'accountRequests' | 'provisioningCustomizations'>;
  /** @default 'AccountFactory' */
  readonly stackName?: string;
}

export interface AccountFactoryApp {
  readonly app: App;
  readonly stack: AccountFactoryStack;
  /** The directory the requests were read from (absolute). */
  readonly requestsDir: string;
}

/**
 * Builds the app that `cdk synth` synthesizes (bin/app.ts): the local engine
 * calls it too, so it runs exactly what would be deployed.
 */
export function createApp(options: CreateAppOptions = {}): AccountFactoryApp {
  const app = new App({ context: options.context, outdir: options.outdir });
  const requestsDir = path.resolve(
    REPO_ROOT,
    options.requestsDir ?? stringContext(app, 'requestsDir') ?? 'examples/account-requests',
  );
  const example = options.exampleCustomizations ?? booleanContext(app, 'exampleCustomizations') ?? true;

  const requests = loadRequestFiles(requestsDir);
  const stack = new AccountFactoryStack(app, options.stackName ?? 'AccountFactory', {
    ...options.stackProps,
    provisioningCustomizations: example
      ? (scope) => new ExampleProvisioningCustomizations(scope, 'ProvisioningCustomizations').stateMachine
      : undefined,
    accountRequests: requests.map((r) => ({ request: r.request, source: r.source })),
  });
  if (options.nag ?? true) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  }
  return { app, stack, requestsDir };
}

function stringContext(app: App, key: string): string | undefined {
  const value = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string')
    throw new Error(`Context ${key} must be a string, got ${JSON.stringify(value)}`);
  return value;
}

function booleanContext(app: App, key: string): boolean | undefined {
  const value = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`Context ${key} must be true or false, got ${JSON.stringify(value)}`);
}
