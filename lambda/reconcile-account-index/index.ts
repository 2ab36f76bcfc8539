import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { reconcileAccountIndex, type ReconcileResult } from '../shared/account-index';
import { createClient } from '../shared/clients';
import { requireEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import { createManagementClients } from '../shared/management';

/**
 * Reconcile account index: on a schedule, rebuilds the index of the organization's
 * accounts from one full ListAccounts (the only full listing; requests read the index).
 */

const logger = createLogger('reconcile-account-index');
const ddb = DynamoDBDocumentClient.from(createClient(DynamoDBClient));
const management = createManagementClients(createClient(STSClient));

export async function handler(): Promise<ReconcileResult> {
  const result = await reconcileAccountIndex(
    ddb,
    requireEnv('ACCOUNT_INDEX_TABLE'),
    management.organizations,
  );
  logger.info('account index reconciled', { ...result });
  return result;
}
