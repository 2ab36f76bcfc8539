import { Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import { marshall } from '@aws-sdk/util-dynamodb';
import { Construct, IConstruct } from 'constructs';
import {
  AccountRequest as ValidatedAccountRequest,
  AccountRequestInput,
  formatIssues,
  parseAccountRequest,
  requestIdOf,
} from '../lambda/shared/schema';
import type { AccountFactory } from './account-factory';
import { KEY_ENCRYPT_DECRYPT_ACTIONS } from './private/grants';
import { acknowledge } from './private/nag';

/** The fields of an account request, as a user writes them (see lambda/shared/schema.ts). */
export type AccountRequestFields = Readonly<AccountRequestInput>;

export interface AccountRequestProps extends AccountRequestFields {
  /**
   * The factory that provisions the account. Either `factory` or `requestsTable`.
   * @default - `requestsTable`
   */
  readonly factory?: AccountFactory;
  /**
   * The requests table of a factory (e.g. one deployed by another stack).
   * @default - `factory.requestsTable`
   */
  readonly requestsTable?: dynamodb.ITable;
  /**
   * Where the request comes from, recorded with it (e.g. `file:sandbox-01.yaml`).
   * @default - `construct:<construct path>`
   */
  readonly source?: string;
}

/** The property names that are not request fields. */
const CONSTRUCT_PROPS = ['factory', 'requestsTable', 'source'] as const;

/** Account emails requested in each app, to catch a duplicate at synth. */
const REQUESTED_EMAILS = new WeakMap<IConstruct, Map<string, string>>();

/**
 * One account, requested in code: validated at synth, written to the factory's
 * requests table on deploy. Each change of the request writes it again (and
 * bumps its version), which runs the workflow for the account; removing the
 * construct deletes the request, which ends the factory's management of the
 * account (it closes the account only with `closeOnRemoval: true`).
 *
 * The email is the request's identity: changing it requests another account.
 *
 * @example
 * new AccountRequest(this, 'SandboxAlice', {
 *   factory,
 *   accountEmail: 'sandbox-alice@example.com',
 *   accountName: 'sandbox-alice',
 *   organizationalUnit: 'Sandbox',
 *   sso: { email: 'alice@example.com', firstName: 'Alice', lastName: 'Example' },
 *   tags: { CostCenter: '1234' },
 * });
 */
export class AccountRequest extends Construct {
  /** The request id (the account email, lower-cased): the requests table key. */
  public readonly requestId: string;
  /** The validated request, with defaults filled in, as written to the table. */
  public readonly request: ValidatedAccountRequest;
  /** The custom resource that writes the request item. */
  public readonly resource: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: AccountRequestProps) {
    super(scope, id);

    const table = props.requestsTable ?? props.factory?.requestsTable;
    if (!table) {
      throw new Error(`AccountRequest ${this.node.path}: set factory or requestsTable`);
    }
    if (props.requestsTable && props.factory && props.requestsTable !== props.factory.requestsTable) {
      throw new Error(`AccountRequest ${this.node.path}: set factory or requestsTable, not both`);
    }

    const fields: Record<string, unknown> = { ...props };
    for (const key of CONSTRUCT_PROPS) delete fields[key];
    const parsed = parseAccountRequest(fields);
    if (!parsed.ok) {
      throw new Error(`AccountRequest ${this.node.path}: ${formatIssues(parsed.issues)}`);
    }
    this.request = parsed.request;
    this.requestId = requestIdOf(parsed.request);
    this.claimEmail();

    const source = props.source ?? `construct:${this.node.path}`;
    const key = { id: { S: this.requestId } };
    const write: cr.AwsSdkCall = {
      service: 'DynamoDB',
      action: 'updateItem',
      parameters: {
        TableName: table.tableName,
        Key: key,
        UpdateExpression: 'SET #request = :request, #source = :source ADD #version :one',
        ExpressionAttributeNames: { '#request': 'request', '#source': 'source', '#version': 'version' },
        ExpressionAttributeValues: {
          ':request': { M: marshall(parsed.request, { removeUndefinedValues: true }) },
          ':source': { S: source },
          ':one': { N: '1' },
        },
      },
      physicalResourceId: cr.PhysicalResourceId.of(this.requestId),
      // The request holds emails and names: keep them out of the provider's logs.
      logging: cr.Logging.withDataHidden(),
    };

    const statements = [
      new iam.PolicyStatement({
        actions: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [table.tableArn],
      }),
    ];
    if (table.encryptionKey) {
      statements.push(
        new iam.PolicyStatement({
          actions: KEY_ENCRYPT_DECRYPT_ACTIONS,
          resources: [table.encryptionKey.keyArn],
        }),
      );
    }
    this.resource = new cr.AwsCustomResource(this, 'Item', {
      resourceType: 'Custom::AccountRequest',
      onCreate: write,
      // CloudFormation calls onUpdate only when the request (or its source) changed:
      // one version per edit.
      onUpdate: write,
      // Deletes the request only while it is still this construct's: when the same
      // email moves to another construct or file (CloudFormation creates the new
      // resource, then deletes this one), the request stays.
      onDelete: {
        service: 'DynamoDB',
        action: 'deleteItem',
        parameters: {
          TableName: table.tableName,
          Key: key,
          ConditionExpression: '#source = :source',
          ExpressionAttributeNames: { '#source': 'source' },
          ExpressionAttributeValues: { ':source': { S: source } },
        },
        ignoreErrorCodesMatching: 'ConditionalCheckFailedException',
        logging: cr.Logging.withDataHidden(),
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements(statements),
      installLatestAwsSdk: false,
    });

    acknowledgeProvider(Stack.of(this));
  }

  private claimEmail(): void {
    const root = this.node.root;
    let emails = REQUESTED_EMAILS.get(root);
    if (!emails) {
      emails = new Map();
      REQUESTED_EMAILS.set(root, emails);
    }
    const other = emails.get(this.requestId);
    if (other !== undefined) {
      throw new Error(
        `AccountRequest ${this.node.path}: accountEmail: ${this.requestId} is already requested by ${other} (one request per account email)`,
      );
    }
    emails.set(this.requestId, this.node.path);
  }
}

/** The AwsCustomResource provider is one function per stack, created by CDK. */
function acknowledgeProvider(stack: Stack): void {
  const singleton = stack.node.tryFindChild(
    `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
  );
  if (!singleton) return;
  acknowledge(
    singleton,
    'AwsSolutions-IAM4',
    'The CDK AwsCustomResource provider logs with the AWS-managed basic execution policy (CloudWatch Logs only)',
    ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
  );
  acknowledge(
    singleton,
    'AwsSolutions-L1',
    "The CDK AwsCustomResource provider's runtime is chosen by aws-cdk-lib",
  );
}
