import { CodePipelineClient, GetPipelineCommand } from '@aws-sdk/client-codepipeline';
import { ControlTowerClient } from '@aws-sdk/client-controltower';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  DescribeAccountCommand,
  ListParentsCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { type AssumedCredentials, createClient } from '../shared/clients';
import { nowIso } from '../shared/clock';
import { listEnabledBaselines } from '../shared/control-tower';
import { optionalEnv, requireEnv } from '../shared/env';
import { parseInput } from '../shared/input';
import { createLogger } from '../shared/logger';
import { partitionOf } from '../shared/management';
import { createMetadataDocumentClient, type MetadataItem } from '../shared/metadata';
import { parseRoleArns, samePolicy, trustPolicy } from '../create-execution-role';
import { pipelineName } from '../create-account-pipeline';
import { accountTags } from '../tag-account';

/**
 * The drift check: for each managed account, compares what the request and the metadata
 * say with what is true now (OU, name, email, the tags the factory manages, the execution
 * role and its trust policy, the account pipeline, Control Tower's baseline drift). It
 * only reads: every role it assumes is given a read-only session policy. Run on a
 * schedule (`record: true`) it keeps the last drift set and publishes only when the set
 * changes; run from the CLI it only reports.
 */

const logger = createLogger('drift-check');

/** What the check compares, per account. */
export const DRIFT_ITEMS = [
  'organizationalUnit',
  'accountName',
  'email',
  'tags',
  'executionRole',
  'executionRoleTrust',
  'accountPipeline',
  'controlTowerBaseline',
] as const;
export type DriftItem = (typeof DRIFT_ITEMS)[number];

export interface DriftFinding {
  item: DriftItem;
  /** What the request / the metadata say. */
  expected: string;
  /** What is true now. */
  actual: string;
}

export interface AccountDrift {
  accountId: string;
  accountName: string;
  requestId: string;
  findings: DriftFinding[];
}

export interface DriftReport {
  checkedAt: string;
  /** Every account checked, drifted or not. */
  accounts: AccountDrift[];
  /** How many accounts drifted. */
  drifted: number;
  /** Set when the run recorded the drift set: whether it differed from the last one, and was published. */
  changed?: boolean;
}

export const DriftCheckInputSchema = z
  .object({
    /** Account IDs, emails or names: only these. */
    accounts: z.array(z.string().min(1)).optional(),
    /** OU names or ids: only the accounts the metadata places there. */
    ous: z.array(z.string().min(1)).optional(),
    /** Keep the drift set and publish a change (the scheduled run). */
    record: z.boolean().optional(),
  })
  .passthrough();
export type DriftCheckInput = z.output<typeof DriftCheckInputSchema>;

/** Read-only session policies: `management` for the management role, `account` for the member hop. */
export interface SessionPolicies {
  management: unknown;
  account: unknown;
}

export interface DriftConfig {
  controlTowerRoleName: string;
  executionRoleName: string;
  trustedRoleArns: string[];
  pipelinePrefix: string;
  metadataTable: string;
  stateTable?: string;
  topicArn?: string;
  sessionPolicies: SessionPolicies;
  /** The management role (delegated topology); unset when the factory runs in the management account. */
  managementRoleArn?: string;
  homeRegion?: string;
}

export interface DriftClients {
  /** The function's own STS: assumes the management role (or, in the management account, the first hop). */
  sts: STSClient;
  doc: DynamoDBDocumentClient;
  sns: SNSClient;
  codePipeline: CodePipelineClient;
}

/** An unknown account or OU named in the input: nothing was checked. */
export class UnknownDriftTarget extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownDriftTarget';
  }
}

export function configFromEnv(): DriftConfig {
  const policies = JSON.parse(requireEnv('DRIFT_SESSION_POLICIES')) as SessionPolicies;
  return {
    controlTowerRoleName: requireEnv('CONTROL_TOWER_EXECUTION_ROLE_NAME'),
    executionRoleName: requireEnv('EXECUTION_ROLE_NAME'),
    trustedRoleArns: parseRoleArns(requireEnv('EXECUTION_ROLE_TRUSTED_ROLES')),
    pipelinePrefix: requireEnv('PIPELINE_NAME_PREFIX'),
    metadataTable: requireEnv('METADATA_TABLE'),
    stateTable: optionalEnv('DRIFT_STATE_TABLE'),
    topicArn: optionalEnv('DRIFT_TOPIC_ARN'),
    sessionPolicies: policies,
    managementRoleArn: optionalEnv('MANAGEMENT_ROLE_ARN'),
    homeRegion: optionalEnv('CONTROL_TOWER_HOME_REGION'),
  };
}

/** AssumeRole with a session policy: the session can do only what both the role and the policy allow. */
async function assumeReadOnly(sts: STSClient, roleArn: string, policy: unknown): Promise<AssumedCredentials> {
  const out = await sts.send(
    new AssumeRoleCommand({
      RoleArn: roleArn,
      RoleSessionName: 'cdk-account-factory-drift',
      DurationSeconds: 900,
      Policy: JSON.stringify(policy),
    }),
  );
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole ${roleArn} returned no credentials`);
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  };
}

/** Every ACTIVE managed account. */
export async function managedAccounts(
  doc: DynamoDBDocumentClient,
  tableName: string,
): Promise<MetadataItem[]> {
  const items: MetadataItem[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
    );
    items.push(...((out.Items ?? []) as MetadataItem[]));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return items.filter((i) => i.status === 'ACTIVE').sort((a, b) => a.accountId.localeCompare(b.accountId));
}

function matchesAccount(item: MetadataItem, ref: string): boolean {
  const r = ref.toLowerCase();
  return item.accountId === ref || item.email.toLowerCase() === r || item.accountName.toLowerCase() === r;
}

/** The accounts the input names (all when it names none); an unknown one is an UnknownDriftTarget. */
export function selectForDrift(items: MetadataItem[], input: DriftCheckInput): MetadataItem[] {
  const accounts = input.accounts ?? [];
  const ous = input.ous ?? [];
  for (const a of accounts) {
    if (!items.some((m) => matchesAccount(m, a)))
      throw new UnknownDriftTarget(`no managed account has the ID, email or name '${a}'`);
  }
  const inOu = (m: MetadataItem, ou: string) =>
    m.organizationalUnit.name === ou || m.organizationalUnit.id === ou.toLowerCase();
  for (const ou of ous) {
    if (!items.some((m) => inOu(m, ou))) throw new UnknownDriftTarget(`no managed account is in OU '${ou}'`);
  }
  return items.filter(
    (m) =>
      (!accounts.length || accounts.some((a) => matchesAccount(m, a))) &&
      (!ous.length || ous.some((o) => inOu(m, o))),
  );
}

function isNamed(err: unknown, ...names: string[]): boolean {
  return names.includes((err as Error)?.name);
}

interface ManagementReaders {
  sts: STSClient;
  organizations: OrganizationsClient;
  controlTower: ControlTowerClient;
}

/** Clients in the Control Tower management account, as a read-only session. */
function managementReaders(clients: DriftClients, config: DriftConfig): ManagementReaders {
  const roleArn = config.managementRoleArn;
  if (!roleArn) {
    return {
      sts: clients.sts,
      organizations: createClient(OrganizationsClient),
      controlTower: createClient(ControlTowerClient, config.homeRegion ? { region: config.homeRegion } : {}),
    };
  }
  let cached: AssumedCredentials | undefined;
  const credentials = async () => {
    if (!cached || (cached.expiration && cached.expiration.getTime() - Date.now() < 60_000)) {
      cached = await assumeReadOnly(clients.sts, roleArn, config.sessionPolicies.management);
    }
    return cached;
  };
  const home = config.homeRegion ? { region: config.homeRegion } : {};
  return {
    sts: createClient(STSClient, { credentials }),
    organizations: createClient(OrganizationsClient, { credentials }),
    controlTower: createClient(ControlTowerClient, { credentials, ...home }),
  };
}

/** Compares one account; each item that differs is a finding. */
export async function checkAccount(
  readers: ManagementReaders,
  clients: DriftClients,
  config: DriftConfig,
  m: MetadataItem,
): Promise<AccountDrift> {
  const findings: DriftFinding[] = [];
  const add = (item: DriftItem, expected: string, actual: string) =>
    findings.push({ item, expected, actual });
  const { accountId } = m;

  const described = (await readers.organizations.send(new DescribeAccountCommand({ AccountId: accountId })))
    .Account;
  const parents = await readers.organizations.send(new ListParentsCommand({ ChildId: accountId }));
  const parentId = parents.Parents?.[0]?.Id ?? '(none)';
  if (parentId !== m.organizationalUnit.id) {
    add('organizationalUnit', `${m.organizationalUnit.name} (${m.organizationalUnit.id})`, parentId);
  }
  if ((described?.Name ?? '') !== m.request.accountName) {
    add('accountName', m.request.accountName, described?.Name ?? '(none)');
  }
  if ((described?.Email ?? '').toLowerCase() !== m.email.toLowerCase()) {
    add('email', m.email, described?.Email ?? '(none)');
  }

  // Only the keys the factory manages: the request's tags (and the keys it set before).
  const tags = await accountTags(readers.organizations, accountId);
  const desired = m.request.tags ?? {};
  const owned = new Set([...Object.keys(desired), ...(m.appliedTagKeys ?? [])]);
  const wrong = [...owned]
    .sort()
    .filter((k) => (Object.hasOwn(desired, k) ? tags.get(k) !== desired[k] : tags.has(k)));
  if (wrong.length) {
    const show = (k: string, v: string | undefined) => `${k}=${v ?? '(absent)'}`;
    add(
      'tags',
      wrong.map((k) => show(k, Object.hasOwn(desired, k) ? desired[k] : undefined)).join(', '),
      wrong.map((k) => show(k, tags.get(k))).join(', '),
    );
  }

  // The execution role: read through Control Tower's role, in a read-only session.
  const partition = partitionOf(config.trustedRoleArns[0]);
  const iam = createClient(IAMClient, {
    credentials: await assumeReadOnly(
      readers.sts,
      `arn:${partition}:iam::${accountId}:role/${config.controlTowerRoleName}`,
      config.sessionPolicies.account,
    ),
  });
  try {
    const role = (await iam.send(new GetRoleCommand({ RoleName: config.executionRoleName }))).Role;
    if (!samePolicy(role?.AssumeRolePolicyDocument, trustPolicy(config.trustedRoleArns))) {
      add(
        'executionRoleTrust',
        `trusts ${config.trustedRoleArns.join(', ')}`,
        role?.AssumeRolePolicyDocument
          ? `trust policy ${decodeURIComponent(role.AssumeRolePolicyDocument)}`
          : 'no trust policy',
      );
    }
  } catch (err) {
    if (!isNamed(err, 'NoSuchEntity', 'NoSuchEntityException')) throw err;
    add('executionRole', `role ${config.executionRoleName}`, 'missing');
  }

  const name = pipelineName(config.pipelinePrefix, accountId);
  try {
    await clients.codePipeline.send(new GetPipelineCommand({ name }));
  } catch (err) {
    if (!isNamed(err, 'PipelineNotFoundException')) throw err;
    add('accountPipeline', `pipeline ${name}`, 'missing');
  }

  const accountArn = described?.Arn;
  if (accountArn) {
    let drifted: string[] = [];
    let token: string | undefined;
    do {
      const out = await listEnabledBaselines(readers.controlTower, {
        filter: { targetIdentifiers: [accountArn] },
        includeChildren: true,
        nextToken: token,
      });
      drifted = drifted.concat(
        out.enabledBaselines
          .filter((b) => b.driftStatusSummary?.types?.inheritance?.status === 'DRIFTED')
          .map((b) => b.arn),
      );
      token = out.nextToken;
    } while (token);
    if (drifted.length) add('controlTowerBaseline', 'IN_SYNC', `DRIFTED (${drifted.join(', ')})`);
  }

  return { accountId, accountName: m.accountName, requestId: m.requestId, findings };
}

/** A stable text of a drift set: what changed is what a notification is about. */
export function driftFingerprint(accounts: readonly AccountDrift[]): string {
  return JSON.stringify(
    accounts
      .filter((a) => a.findings.length)
      .map((a) => [a.accountId, a.findings.map((f) => [f.item, f.expected, f.actual])]),
  );
}

/** The state table's one item: the last recorded drift set. */
export const STATE_KEY = 'drift-set';

/** The state item as the recorded run writes it. */
export interface DriftState {
  id: string;
  fingerprint: string;
  checkedAt: string;
  checked: number;
  drifted: number;
  accounts: AccountDrift[];
}

/** The message of a changed drift set: per account, per item. */
export function driftMessage(report: DriftReport): string {
  const lines = report.accounts
    .filter((a) => a.findings.length)
    .flatMap((a) => [
      `${a.accountId} ${a.accountName} (request ${a.requestId}):`,
      ...a.findings.map((f) => `  ${f.item}: expected ${f.expected}, found ${f.actual}`),
    ]);
  return [
    `Drift check at ${report.checkedAt}: ${report.drifted} of ${report.accounts.length} managed accounts drifted.`,
    ...lines,
    report.drifted
      ? 'Reconcile with `account-factory drift --fix <account>` (re-runs its request through the workflow).'
      : 'No drift left.',
  ].join('\n');
}

export async function checkDrift(
  clients: DriftClients,
  config: DriftConfig,
  input: DriftCheckInput,
): Promise<DriftReport> {
  const selected = selectForDrift(await managedAccounts(clients.doc, config.metadataTable), input);
  const readers = managementReaders(clients, config);
  const accounts: AccountDrift[] = [];
  for (const m of selected) accounts.push(await checkAccount(readers, clients, config, m));
  const report: DriftReport = {
    checkedAt: nowIso(),
    accounts,
    drifted: accounts.filter((a) => a.findings.length).length,
  };
  if (!input.record) return report;
  if (!config.stateTable || !config.topicArn) {
    throw new Error('A recorded drift check needs DRIFT_STATE_TABLE and DRIFT_TOPIC_ARN');
  }
  // A recorded run covers every managed account: its set replaces the last one.
  const fingerprint = driftFingerprint(accounts);
  const last = await clients.doc.send(
    new GetCommand({ TableName: config.stateTable, Key: { id: STATE_KEY }, ConsistentRead: true }),
  );
  const changed = (last.Item?.fingerprint ?? driftFingerprint([])) !== fingerprint;
  if (changed) {
    await clients.sns.send(
      new PublishCommand({
        TopicArn: config.topicArn,
        Subject: report.drifted
          ? `Account factory: ${report.drifted} account${report.drifted === 1 ? '' : 's'} drifted`
          : 'Account factory: drift cleared',
        Message: driftMessage(report),
      }),
    );
  }
  // The latest recorded report (drifted accounts only) is kept whatever changed (`account-factory drift` reads it),
  // after the publish: a publish that fails leaves the last set, so the next run publishes again.
  await clients.doc.send(
    new PutCommand({
      TableName: config.stateTable,
      Item: {
        id: STATE_KEY,
        fingerprint,
        checkedAt: report.checkedAt,
        checked: accounts.length,
        drifted: report.drifted,
        accounts: accounts.filter((a) => a.findings.length),
      },
    }),
  );
  logger.info('Drift check', { accounts: accounts.length, drifted: report.drifted, changed });
  return { ...report, changed };
}

const clients: DriftClients = {
  sts: createClient(STSClient),
  doc: createMetadataDocumentClient(),
  sns: createClient(SNSClient),
  codePipeline: createClient(CodePipelineClient),
};

export async function handler(event: unknown): Promise<DriftReport> {
  // A scheduled run is an EventBridge event whose input the rule sets to `{ "record": true }`.
  const input = parseInput(DriftCheckInputSchema, event ?? {}, 'Drift check');
  return checkDrift(clients, configFromEnv(), input);
}
