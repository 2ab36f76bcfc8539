import {
  AccountClient,
  AlternateContactType,
  DeleteAlternateContactCommand,
  GetAlternateContactCommand,
  PutAlternateContactCommand,
} from '@aws-sdk/client-account';
import { z } from 'zod';
import { withTrustedAccess } from '../shared/account-management';
import { createClient } from '../shared/clients';
import type { AlternateContactsResult } from '../shared/contracts';
import { getMetadata, MetadataTable, recordFactoryMade } from '../shared/metadata';
import {
  ALTERNATE_CONTACT_TYPES,
  AlternateContact,
  AlternateContactKind,
  AlternateContactsSchema,
} from '../shared/schema';
import { settingsStep } from '../shared/settings-step';

/**
 * Alternate contacts: makes the account's billing, operations and security contacts match
 * the request, through the Account Management API from the management account (`AccountId`
 * names the member account; the organization must have enabled trusted access for Account
 * Management, else AccountManagementTrustedAccessDisabled). A contact the request drops is
 * deleted only when the factory set it (recorded in the metadata item); one set by hand
 * is left alone. Idempotent: a second run puts nothing.
 */

const step = settingsStep('alternate-contacts');
const { logger } = step;
const account = createClient(AccountClient, step.managementConfig);

export const AlternateContactsInputSchema = z.object({
  state: z.object({
    version: z.number().int().nonnegative(),
    validation: z.object({
      request: z.object({ alternateContacts: AlternateContactsSchema.optional() }),
    }),
    account: z.object({ accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit account ID') }),
  }),
});
export type AlternateContactsInput = z.output<typeof AlternateContactsInputSchema>;

export interface AlternateContactsClients {
  account: AccountClient;
  /** Where the contacts the factory set are recorded; without it, no contact is ever deleted. */
  metadata?: MetadataTable;
}

const API_TYPE: Record<AlternateContactKind, AlternateContactType> = {
  billing: 'BILLING',
  operations: 'OPERATIONS',
  security: 'SECURITY',
};

async function currentContact(
  client: AccountClient,
  accountId: string,
  kind: AlternateContactKind,
): Promise<AlternateContact | undefined> {
  try {
    const out = await client.send(
      new GetAlternateContactCommand({ AccountId: accountId, AlternateContactType: API_TYPE[kind] }),
    );
    const c = out.AlternateContact;
    return c
      ? { name: c.Name ?? '', title: c.Title ?? '', email: c.EmailAddress ?? '', phone: c.PhoneNumber ?? '' }
      : undefined;
  } catch (err) {
    if ((err as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

const same = (a: AlternateContact, b: AlternateContact) =>
  a.name === b.name && a.title === b.title && a.email === b.email && a.phone === b.phone;

export async function reconcileAlternateContacts(
  clients: AlternateContactsClients,
  input: AlternateContactsInput,
): Promise<AlternateContactsResult> {
  const { accountId } = input.state.account;
  const desired = input.state.validation.request.alternateContacts ?? {};
  const item = clients.metadata ? await getMetadata(clients.metadata, accountId) : undefined;
  const owned = new Set(item?.appliedAlternateContacts ?? []);
  const result: AlternateContactsResult = { put: [], deleted: [], unchanged: [] };

  await withTrustedAccess(async () => {
    for (const kind of ALTERNATE_CONTACT_TYPES) {
      const want = desired[kind];
      if (want) {
        const have = await currentContact(clients.account, accountId, kind);
        if (have && same(have, want)) {
          result.unchanged.push(kind);
          continue;
        }
        await clients.account.send(
          new PutAlternateContactCommand({
            AccountId: accountId,
            AlternateContactType: API_TYPE[kind],
            Name: want.name,
            Title: want.title,
            EmailAddress: want.email,
            PhoneNumber: want.phone,
          }),
        );
        result.put.push(kind);
      } else if (owned.has(kind)) {
        try {
          await clients.account.send(
            new DeleteAlternateContactCommand({ AccountId: accountId, AlternateContactType: API_TYPE[kind] }),
          );
          result.deleted.push(kind);
        } catch (err) {
          // Already gone (deleted by hand, or a retry after a partial run): nothing left to do.
          if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
        }
      }
    }
  });

  if (clients.metadata && item) {
    const set = ALTERNATE_CONTACT_TYPES.filter((k) => desired[k] !== undefined);
    await recordFactoryMade(
      clients.metadata,
      accountId,
      'appliedAlternateContacts',
      set,
      input.state.version,
    );
  }
  logger.info('Reconciled alternate contacts', { accountId, ...result });
  return result;
}

export const handler = step.handler(AlternateContactsInputSchema, 'Alternate contacts', (input, metadata) =>
  reconcileAlternateContacts({ account, metadata }, input),
);
