import type { Context } from 'aws-lambda';
import {
  ListTagsForResourceCommand,
  OrganizationsClient,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-organizations';
import { STSClient } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { createClient } from '../shared/clients';
import type { TagResult } from '../shared/contracts';
import { optionalEnv } from '../shared/env';
import { parseInput } from '../shared/input';
import { beginInvocation, createLogger } from '../shared/logger';
import { createManagementClients } from '../shared/management';
import { withRemainingTime } from '../shared/retry';
import {
  createMetadataDocumentClient,
  getMetadata,
  MetadataTable,
  metadataTableFromEnv,
  recordAppliedTagKeys,
} from '../shared/metadata';

/**
 * Step 6, Tag account: makes the account's tags match the request. Tags someone else
 * put on the account are never removed: only keys the factory set before (the previous
 * request's tags, and the keys recorded in the metadata item) are removed when the
 * request drops them.
 */

const logger = createLogger('tag-account');
const management = createManagementClients(createClient(STSClient));
const doc = createMetadataDocumentClient();

export const TagAccountInputSchema = z.object({
  state: z.object({
    version: z.number().int().nonnegative(),
    /** The previous request as written: read leniently, only its tag keys matter. */
    previous: z.unknown().optional(),
    validation: z.object({
      request: z.object({ tags: z.record(z.string(), z.string()).default({}) }),
    }),
    account: z.object({ accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit account ID') }),
  }),
});
export type TagAccountInput = z.output<typeof TagAccountInputSchema>;

export interface TagAccountClients {
  organizations: OrganizationsClient;
  /** Where the keys the factory set are recorded; without it only the previous request counts. */
  metadata?: MetadataTable;
}

/** The tag keys of a request that has not been validated (e.g. the previous one): keys only. */
export function tagKeysOf(request: unknown): string[] {
  const tags = (request as { tags?: unknown } | null | undefined)?.tags;
  if (!tags || typeof tags !== 'object' || Array.isArray(tags)) return [];
  return Object.keys(tags);
}

export async function accountTags(
  organizations: OrganizationsClient,
  accountId: string,
): Promise<Map<string, string>> {
  const tags = new Map<string, string>();
  let token: string | undefined;
  do {
    const out = await organizations.send(
      new ListTagsForResourceCommand({ ResourceId: accountId, NextToken: token }),
    );
    for (const t of out.Tags ?? []) if (t.Key !== undefined) tags.set(t.Key, t.Value ?? '');
    token = out.NextToken;
  } while (token);
  return tags;
}

/** What to change: a pure function of the current tags, the desired tags and the keys the factory owns. */
export function planTags(
  current: ReadonlyMap<string, string>,
  desired: Readonly<Record<string, string>>,
  ownedKeys: Iterable<string>,
): TagResult {
  const added: string[] = [];
  const updated: string[] = [];
  for (const [key, value] of Object.entries(desired)) {
    if (!current.has(key)) added.push(key);
    else if (current.get(key) !== value) updated.push(key);
  }
  const removed = [...new Set(ownedKeys)].filter((k) => current.has(k) && !Object.hasOwn(desired, k));
  return { added: added.sort(), updated: updated.sort(), removed: removed.sort() };
}

export async function tagAccount(clients: TagAccountClients, input: TagAccountInput): Promise<TagResult> {
  const { accountId } = input.state.account;
  const desired = input.state.validation.request.tags;
  const item = clients.metadata ? await getMetadata(clients.metadata, accountId) : undefined;
  const owned = [...tagKeysOf(input.state.previous), ...(item?.appliedTagKeys ?? [])];

  const current = await accountTags(clients.organizations, accountId);
  const plan = planTags(current, desired, owned);

  // Untag first: an account holds at most 50 tags, and the request may replace some.
  if (plan.removed.length > 0) {
    await clients.organizations.send(
      new UntagResourceCommand({ ResourceId: accountId, TagKeys: plan.removed }),
    );
  }
  const changed = [...plan.added, ...plan.updated];
  if (changed.length > 0) {
    await clients.organizations.send(
      new TagResourceCommand({
        ResourceId: accountId,
        Tags: changed.map((Key) => ({ Key, Value: desired[Key] })),
      }),
    );
  }
  if (clients.metadata && item) {
    await recordAppliedTagKeys(clients.metadata, accountId, Object.keys(desired), input.state.version);
  }
  logger.info('Tagged account', { accountId, ...plan });
  return plan;
}

export const handler = withRemainingTime(async (event: unknown, context?: Context): Promise<TagResult> => {
  beginInvocation(logger, event, context);
  const input = parseInput(TagAccountInputSchema, event, 'Tag account');
  const metadata = optionalEnv('METADATA_TABLE') ? metadataTableFromEnv(doc) : undefined;
  return tagAccount({ organizations: management.organizations, metadata }, input);
});
