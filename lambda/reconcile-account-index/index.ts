import type { Context } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { reconcileAccountIndex, type ReconcileResult } from '../shared/account-index';
import { createClient } from '../shared/clients';
import { requireEnv } from '../shared/env';
import { beginInvocation, createLogger } from '../shared/logger';
import { withRemainingTime } from '../shared/retry';
import { createManagementClients } from '../shared/management';

/**
 * Reconcile account index: on a schedule, rebuilds the index of the organization's
 * accounts from one full ListAccounts (the only full listing; requests read the index).
 */

const logger = createLogger('reconcile-account-index');
const ddb = DynamoDBDocumentClient.from(createClient(DynamoDBClient));
const management = createManagementClients(createClient(STSClient));

export const handler = withRemainingTime(
  async (event: unknown, context?: Context): Promise<ReconcileResult> => {
    beginInvocation(logger, event, context);
    const result = await reconcileAccountIndex(
      ddb,
      requireEnv('ACCOUNT_INDEX_TABLE'),
      management.organizations,
    );
    logger.info('account index reconciled', { ...result });
    return result;
  },
);
