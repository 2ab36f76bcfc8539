import { CustomResource, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
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
import { HandlerFunction } from './private/handler-function';

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
  /**
   * The custom resource that writes the request item (Custom::AccountRequest), served by
   * one function per stack (lambda/request-item): the same item writer the local engine runs.
   */
  public readonly resource: CustomResource;

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
    const writer = requestItemWriter(Stack.of(this));
    writer.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [table.tableArn],
      }),
    );
    if (table.encryptionKey) {
      writer.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: KEY_ENCRYPT_DECRYPT_ACTIONS,
          resources: [table.encryptionKey.keyArn],
        }),
      );
    }
    // CloudFormation calls the function on create, on every change of these properties (an
    // edit of the request or its source: one version per edit), and on delete, which removes
    // the request only while it is still this construct's (when the same email moves to
    // another construct or file, CloudFormation creates the new resource, then deletes this one).
    this.resource = new CustomResource(this, 'Item', {
      resourceType: 'Custom::AccountRequest',
      serviceToken: writer.function.functionArn,
      properties: {
        TableName: table.tableName,
        // CloudFormation passes properties as strings: the request travels as JSON.
        Request: JSON.stringify(parsed.request),
        Source: source,
      },
    });
    this.resource.node.addDependency(writer.role);
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

const WRITER_ID = 'AccountRequestWriter';
/** The handler folder under lambda/ of the AccountRequest custom resource. */
export const REQUEST_ITEM_HANDLER = 'request-item';

/** The function behind every AccountRequest of a stack (created with the first one). */
function requestItemWriter(stack: Stack): HandlerFunction {
  const existing = stack.node.tryFindChild(WRITER_ID);
  if (existing instanceof HandlerFunction) return existing;
  return new HandlerFunction(stack, WRITER_ID, {
    handler: REQUEST_ITEM_HANDLER,
    description: 'Writes account requests to the requests table (Custom::AccountRequest)',
  });
}
