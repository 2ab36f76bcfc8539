import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExampleProvisioningCustomizations } from '../examples/provisioning-customizations';
import { AccountFactoryStack, AccountFactoryStackProps } from '../lib/account-factory-stack';
import { DEFAULT_MANAGEMENT_ROLE_NAME } from '../lib/control-tower-access';
import { ManagementAccountStack } from '../lib/management-account-stack';
import { loadRequestFiles } from '../lib/request-files';
import { AppConfig, readAppConfig } from './app-config';

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
  /**
   * Where the factory runs (see bin/app-config.ts).
   * @default - read from the context (`topology`, `managementAccountId`, ...)
   */
  readonly config?: AppConfig;
}

export interface AccountFactoryApp {
  readonly app: App;
  readonly stack: AccountFactoryStack;
  /** The management account's stack (delegated topology only). */
  readonly managementStack?: ManagementAccountStack;
  readonly config: AppConfig;
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

  const config = options.config ?? readAppConfig((key) => app.node.tryGetContext(key));
  const stackName = options.stackName ?? 'AccountFactory';
  const factorySettings = options.stackProps?.factory ?? {};
  let managementStack: ManagementAccountStack | undefined;
  let delegated: Pick<AccountFactoryStackProps, 'env' | 'managementRoleArn'> = {};
  if (config.topology === 'delegated') {
    const roleName = config.managementRoleName ?? DEFAULT_MANAGEMENT_ROLE_NAME;
    managementStack = new ManagementAccountStack(app, `${stackName}Management`, {
      env: { account: config.managementAccountId, region: config.homeRegion },
      factoryAccountId: config.factoryAccountId!,
      factoryRegion: config.factoryRegion ?? config.homeRegion,
      homeRegion: config.homeRegion,
      roleName,
      trustedRolePath: factorySettings.factoryRolePath,
      controlTowerExecutionRoleName: factorySettings.controlTowerExecutionRoleName,
      enterpriseSupport: factorySettings.featureOptions?.enterpriseSupport,
      cloudTrailTrailName: factorySettings.featureOptions?.cloudTrailDataEvents?.trailName,
      logRetention: factorySettings.logRetention,
    });
    delegated = {
      env: { account: config.factoryAccountId, region: config.factoryRegion ?? config.homeRegion },
      managementRoleArn: `arn:${partitionOf(config.homeRegion!)}:iam::${config.managementAccountId}:role/${roleName}`,
    };
  }

  const requests = loadRequestFiles(requestsDir);
  let exampleCustomizations: ExampleProvisioningCustomizations | undefined;
  const stack = new AccountFactoryStack(app, stackName, {
    ...options.stackProps,
    ...delegated,
    factory: {
      ...factorySettings,
      controlTowerHomeRegion: factorySettings.controlTowerHomeRegion ?? config.homeRegion,
    },
    provisioningCustomizations: example
      ? (scope) => {
          exampleCustomizations = new ExampleProvisioningCustomizations(scope, 'ProvisioningCustomizations');
          return exampleCustomizations.stateMachine;
        }
      : undefined,
    accountRequests: requests.map((r) => ({ request: r.request, source: r.source })),
  });
  // The example acts in each account through the execution role, which trusts only the roles named.
  if (exampleCustomizations) stack.factory.trustExecutionRole(exampleCustomizations.role);
  if (options.nag ?? true) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  }
  return { app, stack, managementStack, requestsDir, config };
}

/** The partition of a region (the management role's ARN is written before any deploy). */
function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
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
