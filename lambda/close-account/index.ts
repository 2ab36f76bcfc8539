import type { Context } from 'aws-lambda';
import { CloseAccountCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { ServiceCatalogClient, TerminateProvisionedProductCommand } from '@aws-sdk/client-service-catalog';
import { STSClient } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { createClient } from '../shared/clients';
import { nowIso } from '../shared/clock';
import { ControlTowerBusy } from '../shared/errors';
import { parseInput } from '../shared/input';
import { beginInvocation, createLogger } from '../shared/logger';
import { OperationSlotSchema, underSlot } from '../shared/operation-slot';
import { createManagementClients } from '../shared/management';
import { AccountRequestSchema, idempotencyToken, provisionedProductName } from '../shared/schema';
import { findProvisionedProductId, isControlTowerBusy } from '../shared/service-catalog';
import { withRemainingTime } from '../shared/retry';

/**
 * Closes an account whose request was removed, when (and only when) the request
 * asked for it (`closeOnRemoval: true`). Two actions, run inside a Control Tower
 * slot of the semaphore:
 * - `terminate`: TerminateProvisionedProduct of the account's Account Factory
 *   product (Control Tower stops managing the account); the token is derived from
 *   the request, so a retry never starts a second termination. The state machine
 *   polls the record with the Check provisioning step.
 * - `close`: Organizations CloseAccount (the account becomes PENDING_CLOSURE, then
 *   SUSPENDED). An account already closed is fine.
 */

const logger = createLogger('close-account');
const management = createManagementClients(createClient(STSClient));

const PayloadSchema = z.object({
  action: z.enum(['terminate', 'close']),
  state: z.object({
    validation: z.object({
      requestId: z.string().min(1),
      version: z.number().int().nonnegative(),
      operation: z.literal('REMOVE', { error: 'must be REMOVE' }),
      request: AccountRequestSchema,
      accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit account ID'),
      provisionedProductId: z.string().min(1).nullable(),
    }),
  }),
});
type Payload = z.infer<typeof PayloadSchema>;

/**
 * $.provisioning after `terminate`: the record to poll (read by Check provisioning),
 * or `recordId: null` when the account has no provisioned product to terminate.
 */
export interface TerminationResult {
  recordId: string | null;
  provisionedProductId: string | null;
  recordType: 'TERMINATE_PROVISIONED_PRODUCT';
  startedAt: string;
}

/** $.closure after `close`. */
export interface ClosureResult {
  accountId: string;
  /** `closing`: CloseAccount accepted; `already-closed`: it was closed (or closing) before. */
  result: 'closing' | 'already-closed';
  closedAt: string;
}

export async function terminateProvisionedProduct(
  sc: ServiceCatalogClient,
  validation: Payload['state']['validation'],
): Promise<TerminationResult> {
  const name = provisionedProductName(validation.request);
  const provisionedProductId =
    validation.provisionedProductId ?? (await findProvisionedProductId(sc, name)) ?? null;
  const startedAt = nowIso();
  if (!provisionedProductId) {
    logger.info('No provisioned product to terminate', { requestId: validation.requestId, name });
    return {
      recordId: null,
      provisionedProductId: null,
      recordType: 'TERMINATE_PROVISIONED_PRODUCT',
      startedAt,
    };
  }
  try {
    const out = await sc.send(
      new TerminateProvisionedProductCommand({
        ProvisionedProductId: provisionedProductId,
        TerminateToken: idempotencyToken(validation.requestId, validation.version, 'terminate'),
      }),
    );
    const recordId = out.RecordDetail?.RecordId;
    if (!recordId) throw new Error('TerminateProvisionedProduct returned no record');
    return { recordId, provisionedProductId, recordType: 'TERMINATE_PROVISIONED_PRODUCT', startedAt };
  } catch (err) {
    if (isControlTowerBusy(err)) throw new ControlTowerBusy((err as Error).message);
    // Terminated meanwhile (e.g. by hand): there is nothing left to wait for.
    if ((err as Error).name === 'ResourceNotFoundException') {
      return { recordId: null, provisionedProductId, recordType: 'TERMINATE_PROVISIONED_PRODUCT', startedAt };
    }
    throw err;
  }
}

export async function closeAccount(org: OrganizationsClient, accountId: string): Promise<ClosureResult> {
  try {
    await org.send(new CloseAccountCommand({ AccountId: accountId }));
    return { accountId, result: 'closing', closedAt: nowIso() };
  } catch (err) {
    if ((err as Error).name === 'AccountAlreadyClosedException') {
      return { accountId, result: 'already-closed', closedAt: nowIso() };
    }
    throw err;
  }
}

export const handler = withRemainingTime(
  async (event: unknown, context?: Context): Promise<TerminationResult | ClosureResult> => {
    beginInvocation(logger, event, context);
    const payload = parseInput(PayloadSchema, event, 'Close account');
    const { validation } = payload.state;
    if (payload.action === 'terminate') {
      const result = await underSlot(parseInput(OperationSlotSchema, event, 'Close account'), () =>
        terminateProvisionedProduct(management.serviceCatalog, validation),
      );
      logger.info('Provisioned product termination', { requestId: validation.requestId, ...result });
      return result;
    }
    const result = await closeAccount(management.organizations, validation.accountId);
    logger.info('Account closure', { requestId: validation.requestId, ...result });
    return result;
  },
);
