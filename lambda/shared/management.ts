import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { ControlTowerClient } from '@aws-sdk/client-controltower';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { STSClient } from '@aws-sdk/client-sts';
import { SupportClient } from '@aws-sdk/client-support';
import { AssumedCredentials, assumeRole, createClient } from './clients';
import { now } from './clock';
import { warmCache } from './warm-cache';
import { optionalEnv } from './env';

/**
 * Clients for the Control Tower management account: Organizations, Service Catalog,
 * Control Tower, Support and CloudTrail. When the factory runs in another account,
 * MANAGEMENT_ROLE_ARN names a role there and these clients use its credentials,
 * refreshed before they expire.
 */
export interface ManagementClients {
  /** STS as the management role: the first hop into member accounts (AWSControlTowerExecution trusts only the management account). */
  sts: STSClient;
  organizations: OrganizationsClient;
  serviceCatalog: ServiceCatalogClient;
  controlTower: ControlTowerClient;
  support: SupportClient;
  cloudTrail: CloudTrailClient;
}

type CredentialProvider = () => Promise<AssumedCredentials>;

/** A credential provider that assumes `roleArn` and caches until 60 s before expiry. */
export function assumedRoleProvider(
  sts: STSClient,
  roleArn: string | (() => string),
  sessionName: string,
): CredentialProvider {
  const cache = warmCache<string, AssumedCredentials>();
  return async () => {
    const arn = typeof roleArn === 'function' ? roleArn() : roleArn;
    let cached = cache.get(arn);
    const fresh = cached?.expiration && cached.expiration.getTime() - now().getTime() > 60_000;
    if (!cached || (cached.expiration && !fresh)) {
      cached = await assumeRole(sts, arn, sessionName);
      cache.set(arn, cached);
    }
    return cached;
  };
}

export function createManagementClients(
  sts: STSClient,
  roleArn = optionalEnv('MANAGEMENT_ROLE_ARN'),
  homeRegion = optionalEnv('CONTROL_TOWER_HOME_REGION'),
): ManagementClients {
  // The role's ARN is read when credentials are needed (the environment is the function's).
  const credentials = roleArn
    ? assumedRoleProvider(sts, () => optionalEnv('MANAGEMENT_ROLE_ARN') ?? roleArn, 'cdk-account-factory')
    : undefined;
  const config = credentials ? { credentials } : {};
  // Account Factory (Service Catalog) and Control Tower's API serve the landing zone from
  // its home region only (AFT's ct_home_region: "MUST be the same region as Control Tower").
  const home = homeRegion ? { region: homeRegion } : {};
  return {
    sts: roleArn ? createClient(STSClient, config) : sts,
    organizations: createClient(OrganizationsClient, config),
    serviceCatalog: createClient(ServiceCatalogClient, { ...config, ...home }),
    controlTower: createClient(ControlTowerClient, { ...config, ...home }),
    // AWS Support's API lives in us-east-1 only.
    support: createClient(SupportClient, { ...config, region: 'us-east-1' }),
    cloudTrail: createClient(CloudTrailClient, config),
  };
}

/**
 * Creates clients in a member account through one of its roles (the Control Tower
 * execution role, or the factory's execution role). Credentials are fetched once per
 * call; the clients are meant for one step.
 */
export async function clientsInAccount<T>(
  sts: STSClient,
  accountId: string,
  roleName: string,
  make: (config: { credentials: AssumedCredentials }) => T,
): Promise<T> {
  const credentials = await assumeRole(
    sts,
    `arn:${partitionOf(roleArnEnv())}:iam::${accountId}:role/${roleName}`,
    'cdk-account-factory',
  );
  return make({ credentials });
}

function roleArnEnv(): string | undefined {
  return optionalEnv('MANAGEMENT_ROLE_ARN');
}

/** The partition of an ARN (`aws`, `aws-us-gov`, `aws-cn`); `aws` when there is none. */
export function partitionOf(arn: string | undefined): string {
  return arn?.split(':')[1] || 'aws';
}

/**
 * Client config for a management-account client a step makes itself (Account Management,
 * Identity Center): the management role's credentials when MANAGEMENT_ROLE_ARN is set,
 * refreshed before they expire; the function's own credentials otherwise.
 */
export function managementClientConfig(sts: STSClient): { credentials?: CredentialProvider } {
  const roleArn = optionalEnv('MANAGEMENT_ROLE_ARN');
  if (!roleArn) return {};
  return {
    credentials: assumedRoleProvider(
      sts,
      () => optionalEnv('MANAGEMENT_ROLE_ARN') ?? roleArn,
      'cdk-account-factory',
    ),
  };
}
