import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ENV } from '../../../lambda/shared/env';
import type { NotificationMessage } from '../../../lambda/shared/contracts';
import type { AccountRequestInput } from '../../../lambda/shared/schema';
import { LocalFactory, type LocalFactoryOptions } from '../../../local/engine';
import type { CfnTemplate } from '../../../local/engine/template';

/**
 * Shared set-up of the workflow tests: the synthesized template on the local engine,
 * with Control Tower taking 10 emulated minutes (3 s real at scale 200).
 */
export const CREATE_SECONDS = 600;

export async function startFactory(
  template: CfnTemplate,
  options: Partial<LocalFactoryOptions> = {},
): Promise<LocalFactory> {
  return LocalFactory.start({
    template,
    virtualTime: true,
    schedules: false,
    ...options,
    landingZone: {
      seed: 7,
      ...options.landingZone,
      controlTower: {
        createSeconds: CREATE_SECONDS,
        updateSeconds: 300,
        jitter: 0,
        ...options.landingZone?.controlTower,
      },
    },
  });
}

export function request(name: string, overrides: Partial<AccountRequestInput> = {}): AccountRequestInput {
  return {
    accountEmail: `${name}@example.com`,
    accountName: name,
    organizationalUnit: 'Sandbox',
    sso: { email: 'platform-team@example.com', firstName: 'Platform', lastName: 'Team' },
    tags: { owner: 'platform-team', 'cost-center': 'cc-100' },
    ...overrides,
  };
}

export function notifications(factory: LocalFactory, kind: 'success' | 'failure'): NotificationMessage[] {
  const env = factory.lambda.functionFor('notify').environment;
  const topic = kind === 'success' ? env[ENV.SUCCESS_TOPIC_ARN] : env[ENV.FAILURE_TOPIC_ARN];
  // The request notifications: the account pipelines' own results are notified on the same topics.
  return factory.landingZone
    .messages(topic)
    .map((m) => JSON.parse(m.message) as NotificationMessage & { kind?: string })
    .filter((m) => m.kind !== 'CUSTOMIZATIONS');
}

export async function metadataItem(
  factory: LocalFactory,
  accountId: string,
): Promise<Record<string, any> | undefined> {
  const table = factory.lambda.functionFor('store-metadata').environment[ENV.METADATA_TABLE];
  const out = await factory.ddb.send(
    new GetItemCommand({ TableName: table, Key: marshall({ accountId }), ConsistentRead: true }),
  );
  return out.Item ? unmarshall(out.Item) : undefined;
}

/** The semaphore's lock item: its count and the execution ARNs that hold a slot. */
export async function semaphoreState(
  factory: LocalFactory,
): Promise<{ count: number; holders: string[]; waiters: number }> {
  const table = factory.lambda.functionFor('acquire-slot').environment[ENV.SEMAPHORE_TABLE];
  const out = await factory.ddb.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  const items = (out.Items ?? []).map((i) => unmarshall(i));
  const lock = items.find((i) => i.sk === 'lock') ?? {};
  return {
    count: Number(lock.count ?? 0),
    holders: Object.keys(lock).filter((k) => k.startsWith('arn:')),
    waiters: items.filter((i) => String(i.sk).startsWith('waiter#')).length,
  };
}
