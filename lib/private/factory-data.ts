import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** The factory's tables, created in its scope (ids `Requests`, `Metadata`). */
export interface FactoryTables {
  /** Account requests (partition key `id`), with a NEW_AND_OLD_IMAGES stream. */
  readonly requestsTable: dynamodb.Table;
  /** One item per managed account (partition key `accountId`, GSI `emailIndexName`). */
  readonly metadataTable: dynamodb.Table;
}

/** On demand, point-in-time recovery, encrypted (with `key` when given), retained. */
export function createFactoryTables(
  scope: Construct,
  key: kms.IKey | undefined,
  emailIndexName: string,
): FactoryTables {
  const tableEncryption = key
    ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: key }
    : { encryption: dynamodb.TableEncryption.AWS_MANAGED };
  const requestsTable = new dynamodb.Table(scope, 'Requests', {
    partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    ...tableEncryption,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const metadataTable = new dynamodb.Table(scope, 'Metadata', {
    partitionKey: { name: 'accountId', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    ...tableEncryption,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  metadataTable.addGlobalSecondaryIndex({
    indexName: emailIndexName,
    partitionKey: { name: 'email', type: dynamodb.AttributeType.STRING },
    projectionType: dynamodb.ProjectionType.ALL,
  });
  return { requestsTable, metadataTable };
}

/** The success and failure topics: the given ones, or new ones (encrypted, SSL enforced). */
export function createFactoryTopics(
  scope: Construct,
  props: { encryptionKey?: kms.IKey; successTopic?: sns.ITopic; failureTopic?: sns.ITopic },
): { successTopic: sns.ITopic; failureTopic: sns.ITopic } {
  const topicKey = props.encryptionKey ?? kms.Alias.fromAliasName(scope, 'SnsManagedKey', 'alias/aws/sns');
  const successTopic =
    props.successTopic ??
    new sns.Topic(scope, 'SuccessTopic', {
      displayName: 'Account factory: accounts ready',
      masterKey: topicKey,
      enforceSSL: true,
    });
  const failureTopic =
    props.failureTopic ??
    new sns.Topic(scope, 'FailureTopic', {
      displayName: 'Account factory: failed requests',
      masterKey: topicKey,
      enforceSSL: true,
    });
  return { successTopic, failureTopic };
}
