import { Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';

/**
 * Grants with explicit action lists. Several CDK grant helpers use action
 * wildcards (`kms:GenerateDataKey*`, `s3:GetObject*`, `s3:List*`); the factory
 * keeps every action named, so a policy review reads exactly what is allowed.
 */

/** KMS actions for a principal that only reads data encrypted with the key. */
export const KEY_DECRYPT_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'];
/** KMS actions for a principal that writes data encrypted with the key. */
export const KEY_ENCRYPT_DECRYPT_ACTIONS = [
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKey',
];

const TABLE_WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

/** The key's actions, when there is a customer-managed key (else nothing: `Grant.drop`). */
export function grantKey(key: kms.IKey | undefined, grantee: iam.IGrantable, actions: string[]): iam.Grant {
  return key ? key.grant(grantee, ...actions) : iam.Grant.drop(grantee, 'no customer-managed key');
}

/** Read items (GetItem, Query, Scan, ...) and, for a customer-managed key, decrypt. */
export function grantTableRead(table: dynamodb.ITable, grantee: iam.IGrantable): iam.Grant {
  return table.grantReadData(grantee);
}

/** Read and write items; for a customer-managed key, encrypt and decrypt. */
export function grantTableReadWrite(table: dynamodb.ITable, grantee: iam.IGrantable): iam.Grant {
  return table
    .grantReadData(grantee)
    .combine(table.grant(grantee, ...TABLE_WRITE_ACTIONS))
    .combine(grantKey(table.encryptionKey, grantee, KEY_ENCRYPT_DECRYPT_ACTIONS));
}

/** sns:Publish on the topic, and the data key of its customer-managed key when it has one. */
export function grantTopicPublish(topic: sns.ITopic, grantee: iam.IGrantable): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['sns:Publish'],
    resourceArns: [topic.topicArn],
  }).combine(grantKey(topic.masterKey, grantee, ['kms:Decrypt', 'kms:GenerateDataKey']));
}

/** Read objects (and their versions) and list the bucket. */
export function grantBucketRead(bucket: s3.IBucket, grantee: iam.IGrantable): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:GetBucketLocation', 's3:GetBucketVersioning', 's3:ListBucket'],
    resourceArns: [bucket.bucketArn],
  })
    .combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resourceArns: [bucket.arnForObjects('*')],
      }),
    )
    .combine(grantKey(bucket.encryptionKey, grantee, KEY_DECRYPT_ACTIONS));
}

/** Read and write objects. */
export function grantBucketReadWrite(bucket: s3.IBucket, grantee: iam.IGrantable): iam.Grant {
  return grantBucketRead(bucket, grantee)
    .combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:PutObject'],
        resourceArns: [bucket.arnForObjects('*')],
      }),
    )
    .combine(grantKey(bucket.encryptionKey, grantee, KEY_ENCRYPT_DECRYPT_ACTIONS));
}

/**
 * The on-failure destination of an event source mapping: an SNS topic, granted
 * with explicit actions (the stock SnsDlq grants `kms:GenerateDataKey*`).
 */
export class TopicOnFailure implements lambda.IEventSourceDlq {
  constructor(private readonly topic: sns.ITopic) {}

  bind(_target: lambda.IEventSourceMapping, targetHandler: lambda.IFunction): lambda.DlqDestinationConfig {
    grantTopicPublish(this.topic, targetHandler);
    return { destination: this.topic.topicArn };
  }
}

/** `arn:<partition>:iam::*:role/<name>`: a role of that name in any account. */
export function roleInAnyAccount(scope: Stack, roleName: string): string {
  return `arn:${scope.partition}:iam::*:role/${roleName}`;
}
