/**
 * The deployable app's settings, read from the CDK context (cdk.json's `context`, or
 * `-c key=value`), checked before anything is built: a bad value fails with
 * InvalidAppConfig naming the key and what to write.
 *
 * | key                        | meaning                                                                 |
 * | -------------------------- | ----------------------------------------------------------------------- |
 * | `topology`                 | `management` (default): the factory in the Control Tower management account. `delegated`: the factory in a vending account, with `ManagementAccountStack` in the management account |
 * | `managementAccountId`      | the Control Tower management account (required by `delegated`)          |
 * | `factoryAccountId`         | the account the factory runs in (required by `delegated`)               |
 * | `homeRegion`               | the Control Tower home region (required by `delegated`; default: the stack's region) |
 * | `factoryRegion`            | the factory's region (default: `homeRegion`)                             |
 * | `managementRoleName`       | the management role's name (`delegated`; default AccountFactoryManagement) |
 */
export type Topology = 'management' | 'delegated';

export interface AppConfig {
  readonly topology: Topology;
  readonly managementAccountId?: string;
  readonly factoryAccountId?: string;
  readonly homeRegion?: string;
  readonly factoryRegion?: string;
  readonly managementRoleName?: string;
}

export class InvalidAppConfig extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAppConfig';
  }
}

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/** Reads and checks the app's settings; `get` reads one context key. */
export function readAppConfig(get: (key: string) => unknown): AppConfig {
  const text = (key: string, pattern: RegExp, example: string): string | undefined => {
    const value = get(key);
    if (value === undefined || value === null || value === '') return undefined;
    const s = typeof value === 'number' ? String(value) : value;
    if (typeof s !== 'string' || !pattern.test(s)) {
      throw new InvalidAppConfig(`Context ${key} is ${JSON.stringify(value)}: expected ${example}`);
    }
    return s;
  };
  const topology = (text('topology', /^(management|delegated)$/, '"management" or "delegated"') ??
    'management') as Topology;
  const config: AppConfig = {
    topology,
    managementAccountId: text('managementAccountId', ACCOUNT, 'a 12-digit account ID, e.g. 111111111111'),
    factoryAccountId: text('factoryAccountId', ACCOUNT, 'a 12-digit account ID, e.g. 222222222222'),
    homeRegion: text('homeRegion', REGION, 'an AWS region, e.g. us-east-1'),
    factoryRegion: text('factoryRegion', REGION, 'an AWS region, e.g. eu-west-1'),
    managementRoleName: text('managementRoleName', ROLE_NAME, 'an IAM role name'),
  };
  if (topology === 'delegated') {
    const missing = (['managementAccountId', 'factoryAccountId', 'homeRegion'] as const).filter(
      (k) => config[k] === undefined,
    );
    if (missing.length) {
      throw new InvalidAppConfig(
        `The delegated topology needs ${missing.join(', ')}: e.g. cdk deploy --all -c topology=delegated -c managementAccountId=111111111111 -c factoryAccountId=222222222222 -c homeRegion=us-east-1`,
      );
    }
    if (config.managementAccountId === config.factoryAccountId) {
      throw new InvalidAppConfig(
        `managementAccountId and factoryAccountId are both ${config.factoryAccountId}: for a factory in the management account use topology=management`,
      );
    }
  } else if (config.managementRoleName !== undefined) {
    throw new InvalidAppConfig(
      'managementRoleName applies to the delegated topology only (in the management topology the factory creates its management role)',
    );
  }
  return config;
}
