import type { Context } from 'aws-lambda';
import { ControlTowerClient } from '@aws-sdk/client-controltower';
import { ListParentsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { STSClient } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { createClient } from '../shared/clients';
import { nowIso } from '../shared/clock';
import type { OrganizationalUnitRef, ValidationResult } from '../shared/contracts';
import {
  AccountNameInUse,
  AccountNotFound,
  EmailInUse,
  InvalidAccountRequest,
  OrganizationalUnitNotFound,
  OrganizationalUnitNotRegistered,
} from '../shared/errors';
import { parseInput } from '../shared/input';
import { beginInvocation, createLogger } from '../shared/logger';
import { createManagementClients } from '../shared/management';
import {
  createMetadataDocumentClient,
  MetadataItem,
  MetadataTable,
  metadataTableFromEnv,
  queryMetadataByEmail,
} from '../shared/metadata';
import {
  AccountSummary,
  describeOrganizationalUnit,
  isOpen,
  hasBaselineDrift,
  isRegisteredWithControlTower,
  listAllOrganizationalUnits,
} from '../shared/organizations';
import {
  AccountRequest,
  controlTowerChanges,
  formatIssues,
  parseAccountRequest,
  parseOrganizationalUnit,
  requestIdOf,
} from '../shared/schema';
import { findEnrolledProduct } from '../shared/service-catalog';
import { type AccountLookup, accountLookupFromEnv, listingLookup } from '../shared/account-index';
import { withRemainingTime } from '../shared/retry';

/**
 * Validate request (step 1): checks the request against the schema and the
 * organization, and decides what the workflow does with it:
 * CREATE | IMPORT | ADOPT | UPDATE | CUSTOMIZE | REMOVE.
 *
 * An account that is in the organization but not managed by the factory is imported.
 * When Account Factory (or AFT) vended or enrolled it already, it is adopted: no Control
 * Tower operation, straight to account setup, as AFT does for enrolled accounts
 * (aft_common/account_request_record_handler.py: "enrolled_account_id =
 * get_account_id_if_enrolled(...)" ... "Customization request received for existing CT
 * account"). An enrolled account requested into another OU is updated through its
 * provisioned product instead (the move is a Control Tower operation).
 */

const logger = createLogger('validate-request');
const management = createManagementClients(createClient(STSClient));
const metadataDoc = createMetadataDocumentClient();

export interface ValidateClients {
  organizations: OrganizationsClient;
  controlTower: ControlTowerClient;
  serviceCatalog: ServiceCatalogClient;
  metadata: MetadataTable;
  /**
   * Accounts by email and name. The factory's function reads the account index
   * (ACCOUNT_INDEX_TABLE): the same few calls at any organization size.
   * @default - one ListAccounts listing per validation
   */
  accounts?: AccountLookup;
}

/** The part of the step payload this step reads. */
const PayloadSchema = z.object({
  state: z.object({
    requestId: z.string().min(1),
    version: z.number().int().nonnegative(),
    eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
    request: z.unknown(),
    previous: z.unknown(),
  }),
});
type Payload = z.infer<typeof PayloadSchema>;

/** Parses a request; a bad one becomes InvalidAccountRequest whose message starts with the first bad field. */
function parseRequest(input: unknown, what: 'request' | 'previous request'): AccountRequest {
  if (input === null || input === undefined) {
    throw new InvalidAccountRequest(`(request): the ${what} is missing`);
  }
  const parsed = parseAccountRequest(input);
  if (!parsed.ok) throw new InvalidAccountRequest(formatIssues(parsed.issues));
  return parsed.request;
}

interface ResolvedOu extends OrganizationalUnitRef {
  arn: string;
}

/** Finds the request's OU ("Name" or "Name (ou-id)") in the organization. */
export async function resolveOrganizationalUnit(
  org: OrganizationsClient,
  value: string,
): Promise<ResolvedOu> {
  const wanted = parseOrganizationalUnit(value);
  if (wanted.id) {
    const ou = await describeOrganizationalUnit(org, wanted.id);
    if (!ou)
      throw new OrganizationalUnitNotFound(
        `organizationalUnit: no OU with id ${wanted.id} in the organization`,
      );
    if (ou.name !== wanted.name) {
      throw new OrganizationalUnitNotFound(
        `organizationalUnit: OU ${wanted.id} is named '${ou.name}', not '${wanted.name}'`,
      );
    }
    return ou;
  }
  const matches = (await listAllOrganizationalUnits(org)).filter((ou) => ou.name === wanted.name);
  if (matches.length === 0) {
    throw new OrganizationalUnitNotFound(
      `organizationalUnit: no OU named '${wanted.name}' in the organization`,
    );
  }
  if (matches.length > 1) {
    throw new InvalidAccountRequest(
      `organizationalUnit: ${matches.length} OUs are named '${wanted.name}' (${matches.map((m) => m.id).join(', ')}); ` +
        `say which with "${wanted.name} (ou-id)"`,
    );
  }
  const [ou] = matches;
  return { id: ou.id, name: ou.name, arn: ou.arn };
}

/** The managed account for an email: the ACTIVE metadata item. */
async function managedAccount(metadata: MetadataTable, email: string): Promise<MetadataItem | undefined> {
  return (await queryMetadataByEmail(metadata, email)).find((i) => i.status === 'ACTIVE');
}

export async function validateRequest(clients: ValidateClients, payload: Payload): Promise<ValidationResult> {
  const { state } = payload;
  if (state.eventName === 'REMOVE') return validateRemoval(clients, payload);

  const request = parseRequest(state.request, 'request');
  if (requestIdOf(request) !== state.requestId.trim().toLowerCase()) {
    throw new InvalidAccountRequest(
      `accountEmail: ${request.accountEmail} does not match the request id ${state.requestId} (the email identifies the request and cannot change)`,
    );
  }

  const ou = await resolveOrganizationalUnit(clients.organizations, request.organizationalUnit);
  if (!(await isRegisteredWithControlTower(clients.controlTower, ou.arn))) {
    throw new OrganizationalUnitNotRegistered(
      `organizationalUnit: '${ou.name}' (${ou.id}) is not registered with AWS Control Tower; register it (or pick a registered OU) first`,
    );
  }

  const accounts = clients.accounts ?? listingLookup(clients.organizations);
  const managed = await managedAccount(clients.metadata, request.accountEmail);
  const byEmail = await accounts.byEmail(request.accountEmail);
  const accountId = managed?.accountId ?? byEmail?.id ?? null;

  const base = {
    requestId: state.requestId,
    version: state.version,
    request,
    organizationalUnit: { id: ou.id, name: ou.name },
    validatedAt: nowIso(),
  };

  if (!managed && byEmail && byEmail.name !== request.accountName) {
    throw new EmailInUse(
      `accountEmail: ${request.accountEmail} is used by account ${byEmail.id} named '${byEmail.name}'; ` +
        `to import that account, set accountName to '${byEmail.name}'`,
    );
  }
  assertNameFree(await accounts.byName(request.accountName), request, accountId);

  if (managed) {
    const previous = previousRequest(managed, state.previous);
    // What changed in the request, and what was changed by hand since (drift): both need
    // Control Tower to update (enroll again) the account.
    const changes = [
      ...new Set([
        ...(previous ? controlTowerChanges(previous, request) : []),
        ...(await controlTowerDrift(clients, managed.accountId, accounts, ou.id, request)),
      ]),
    ];
    return {
      ...base,
      operation: changes.length ? 'UPDATE' : 'CUSTOMIZE',
      accountId: managed.accountId,
      provisionedProductId: managed.provisionedProductId ?? null,
      controlTowerChanges: changes,
    };
  }
  if (byEmail) {
    const enrolled = await findEnrolledProduct(clients.serviceCatalog, byEmail.id);
    if (enrolled) {
      const inOu = (await parentOf(clients.organizations, byEmail.id)) === ou.id;
      return {
        ...base,
        operation: inOu ? 'ADOPT' : 'UPDATE',
        accountId: byEmail.id,
        provisionedProductId: enrolled.id,
        controlTowerChanges: inOu ? [] : ['ManagedOrganizationalUnit'],
      };
    }
    return {
      ...base,
      operation: 'IMPORT',
      accountId: byEmail.id,
      provisionedProductId: null,
      controlTowerChanges: [],
    };
  }
  return {
    ...base,
    operation: 'CREATE',
    accountId: null,
    provisionedProductId: null,
    controlTowerChanges: [],
  };
}

/**
 * The Control Tower parameters whose value in the organization differs from the request
 * (an account moved or renamed by hand), and `ControlTowerBaseline` when Control Tower
 * reports the account's baseline in drift: a re-run of the request reconciles them.
 */
async function controlTowerDrift(
  clients: ValidateClients,
  accountId: string,
  accounts: AccountLookup,
  ouId: string,
  request: AccountRequest,
): Promise<string[]> {
  const account = await accounts.byId(accountId);
  if (!account || !isOpen(account)) return [];
  const drift: string[] = [];
  if (account.name !== request.accountName) drift.push('AccountName');
  if ((await parentOf(clients.organizations, accountId)) !== ouId) drift.push('ManagedOrganizationalUnit');
  if (account.arn && (await hasBaselineDrift(clients.controlTower, account.arn))) {
    drift.push('ControlTowerBaseline');
  }
  return drift;
}

/** The id of the account's parent (its OU, or the root). */
async function parentOf(org: OrganizationsClient, accountId: string): Promise<string | undefined> {
  const out = await org.send(new ListParentsCommand({ ChildId: accountId }));
  return out.Parents?.[0]?.Id;
}

/** Another open account (not this request's) already has the requested name. */
function assertNameFree(
  named: AccountSummary | undefined,
  request: AccountRequest,
  ownAccountId: string | null,
): void {
  const other =
    named &&
    isOpen(named) &&
    named.name === request.accountName &&
    named.id !== ownAccountId &&
    named.email.toLowerCase() !== request.accountEmail
      ? named
      : undefined;
  if (other) {
    throw new AccountNameInUse(
      `accountName: '${request.accountName}' is already the name of account ${other.id} (${other.email}); pick another name`,
    );
  }
}

/** The request last applied to a managed account: from its metadata, else the stream's old image. */
function previousRequest(managed: MetadataItem, previous: unknown): AccountRequest | undefined {
  for (const candidate of [managed.request, previous]) {
    if (candidate === undefined || candidate === null) continue;
    const parsed = parseAccountRequest(candidate);
    if (parsed.ok) return parsed.request;
  }
  return undefined;
}

async function validateRemoval(clients: ValidateClients, { state }: Payload): Promise<ValidationResult> {
  const request = parseRequest(state.previous, 'previous request');
  const managed = await managedAccount(clients.metadata, request.accountEmail);
  const accounts = clients.accounts ?? listingLookup(clients.organizations);
  const accountId = managed?.accountId ?? (await accounts.byEmail(request.accountEmail))?.id ?? null;
  if (!accountId) {
    throw new AccountNotFound(
      `accountEmail: no account uses ${request.accountEmail}; there is nothing to remove`,
    );
  }
  return {
    requestId: state.requestId,
    version: state.version,
    operation: 'REMOVE',
    request,
    organizationalUnit: managed?.organizationalUnit ?? (await removalOu(clients.organizations, request)),
    accountId,
    provisionedProductId: managed?.provisionedProductId ?? null,
    controlTowerChanges: [],
    validatedAt: nowIso(),
  };
}

/** The OU of a removed request, best effort: a removal must not fail because the OU changed since. */
async function removalOu(org: OrganizationsClient, request: AccountRequest): Promise<OrganizationalUnitRef> {
  try {
    const ou = await resolveOrganizationalUnit(org, request.organizationalUnit);
    return { id: ou.id, name: ou.name };
  } catch (err) {
    if (err instanceof OrganizationalUnitNotFound || err instanceof InvalidAccountRequest) {
      const wanted = parseOrganizationalUnit(request.organizationalUnit);
      return { id: wanted.id ?? '', name: wanted.name };
    }
    throw err;
  }
}

export const handler = withRemainingTime(
  async (event: unknown, context?: Context): Promise<ValidationResult> => {
    beginInvocation(logger, event, context);
    const payload = parseInput(PayloadSchema, event, 'Validate request');
    const result = await validateRequest(
      {
        organizations: management.organizations,
        controlTower: management.controlTower,
        serviceCatalog: management.serviceCatalog,
        metadata: metadataTableFromEnv(metadataDoc),
        accounts: accountLookupFromEnv(metadataDoc, management.organizations, 'read'),
      },
      payload,
    );
    logger.info('request validated', {
      requestId: result.requestId,
      version: result.version,
      operation: result.operation,
      accountId: result.accountId,
      controlTowerChanges: result.controlTowerChanges,
    });
    return result;
  },
);
