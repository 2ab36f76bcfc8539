import * as dynamoDbSdk from '@aws-sdk/client-dynamodb';
import * as sfnSdk from '@aws-sdk/client-sfn';
import { CODEPIPELINE } from './codepipeline';
import { sdkError } from './common';
import { CONTROL_TOWER } from './control-tower';
import { EC2 } from './ec2';
import { IAM, STS } from './iam-sts';
import { ORGANIZATIONS } from './organizations';
import type { SdkClient, ServiceDefinition } from './service';
import { SERVICE_CATALOG } from './service-catalog';
import { SNS } from './sns';
import { CLOUDTRAIL, SUPPORT } from './support-cloudtrail';
import { ACCOUNT_MANAGEMENT } from './account';
import { IDENTITY_CENTER } from './identity-center';
import { CONTROL_TOWER_LIFECYCLE_EVENTS } from './lifecycle-events';

/**
 * The registry: every service the landing zone emulates, one line each, in the order
 * they are created (a service may `ctx.get()` those above it). To add a service, write
 * its file (see README.md, "Adding a service") and add its definition here.
 */
export const EMULATED_SERVICES: readonly ServiceDefinition[] = [
  ORGANIZATIONS,
  IAM,
  STS,
  EC2,
  CONTROL_TOWER_LIFECYCLE_EVENTS,
  SERVICE_CATALOG,
  CONTROL_TOWER,
  CODEPIPELINE,
  SNS,
  SUPPORT,
  CLOUDTRAIL,
  ACCOUNT_MANAGEMENT,
  IDENTITY_CENTER,
];

/**
 * Clients served elsewhere, whose errors and Step Functions integrations are still
 * named here: Step Functions (the local engine registers it), DynamoDB (dynalite).
 */
const OTHER_CLIENTS: readonly SdkClient[] = [
  {
    name: 'SFNClient',
    sdk: sfnSdk,
    protocol: 'json',
    // https://docs.aws.amazon.com/step-functions/latest/apireference/CommonErrors.html
    throttleErrors: ['ThrottlingException'],
    stepFunctions: { service: 'sfn', errorPrefix: 'Sfn', camelCase: true },
  },
  {
    name: 'DynamoDBClient',
    sdk: dynamoDbSdk,
    protocol: 'json',
    // SFN-7: `aws-sdk:dynamodb` errors are `DynamoDb.…` (the optimized integration's are `DynamoDB.…`).
    stepFunctions: { service: 'dynamodb', errorPrefix: 'DynamoDb' },
  },
];

const CLIENTS = new Map<string, SdkClient>(
  [...EMULATED_SERVICES.flatMap((d) => d.clients), ...OTHER_CLIENTS].map((c) => [c.name, c]),
);

/** The facts of a client by class name (`'STSClient'`), if the emulator knows it. */
export function sdkClient(clientName: string): SdkClient | undefined {
  return CLIENTS.get(clientName);
}

/** An AWS error as the client named `clientName` would throw it (see `sdkError`). */
export function awsError(
  clientName: string,
  name: string,
  message: string,
  fault: 'client' | 'server' = 'client',
  httpStatusCode?: number,
): Error {
  return sdkError(sdkClient(clientName) ?? undefined, name, message, fault, httpStatusCode);
}

// ---- Step Functions service integrations -------------------------------------------

/** One Step Functions service integration, as the engine and `LandingZone.callAwsService` serve it. */
export interface SdkIntegration {
  readonly client: SdkClient;
  /** The SDK command's name (`StartPipelineExecutionCommand`). */
  readonly commandName: string;
  /** Prefix of the task's error names (`CodePipeline`). */
  readonly errorPrefix: string;
  readonly camelCase: boolean;
}

/**
 * The optimized integrations the engine serves with the SDK (`arn:aws:states:::dynamodb:updateItem`):
 * their errors keep the service's own casing (SFN-7: `DynamoDB.ConditionalCheckFailedException`).
 */
const OPTIMIZED: Record<string, { client: string; errorPrefix: string }> = {
  dynamodb: { client: 'DynamoDBClient', errorPrefix: 'DynamoDB' },
  // guess: the optimized SNS integration's error prefix is not documented.
  sns: { client: 'SNSClient', errorPrefix: 'SNS' },
};

const BY_SERVICE = new Map<string, SdkClient>(
  [...CLIENTS.values()].filter((c) => c.stepFunctions).map((c) => [c.stepFunctions!.service, c]),
);

/**
 * The integration a Task's Resource names (`arn:aws:states:::aws-sdk:<service>:<action>`,
 * or an optimized `dynamodb:` / `sns:` one), or undefined when nothing here serves it.
 */
export function sdkIntegration(resource: string): SdkIntegration | undefined {
  const sdk = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)$/.exec(resource);
  if (sdk) return integrationOf(sdk[1], sdk[2]);
  const optimized = /^arn:aws:states:::(dynamodb|sns):([A-Za-z]+)$/.exec(resource);
  if (!optimized) return undefined;
  const { client, errorPrefix } = OPTIMIZED[optimized[1]];
  return {
    client: CLIENTS.get(client)!,
    commandName: commandOf(optimized[2]),
    errorPrefix,
    camelCase: false,
  };
}

/** The `aws-sdk:<service>` integration for `action`, or undefined when nothing here serves it. */
export function integrationOf(service: string, action: string): SdkIntegration | undefined {
  const client = BY_SERVICE.get(service.toLowerCase());
  if (!client?.stepFunctions) return undefined;
  const { errorPrefix, camelCase = false } = client.stepFunctions;
  return { client, commandName: commandOf(action), errorPrefix, camelCase };
}

/**
 * Calls an integration the way Step Functions does: PascalCase parameters in and
 * results out (every key converted for camelCase APIs, SFN-8), the result as JSON
 * (dates as strings, no `$metadata`), and errors named `<Prefix>.<Name>Exception`
 * (SFN-6). `send` makes the SDK call (`input` as the SDK names its members).
 */
export async function callIntegration(
  integration: SdkIntegration,
  parameters: unknown,
  send: (input: unknown) => Promise<unknown>,
): Promise<Record<string, unknown>> {
  const { camelCase, errorPrefix } = integration;
  const input = camelCase ? renameKeys(parameters ?? {}, lowerFirst) : (parameters ?? {});
  let output: unknown;
  try {
    output = await send(input);
  } catch (e) {
    const original = e as Error;
    const name = original.name.endsWith('Exception') ? original.name : `${original.name}Exception`;
    const wrapped = new Error(original.message, { cause: original });
    wrapped.name = `${errorPrefix}.${name}`;
    throw wrapped;
  }
  const plain = JSON.parse(JSON.stringify(output ?? {}));
  delete plain.$metadata;
  return camelCase ? renameKeys(plain, upperFirst) : plain;
}

function commandOf(action: string): string {
  return `${upperFirst(action)}Command`;
}

const lowerFirst = (k: string) => k.charAt(0).toLowerCase() + k.slice(1);
const upperFirst = (k: string) => k.charAt(0).toUpperCase() + k.slice(1);

/** Renames every object key at any depth (values are left alone). */
function renameKeys(value: unknown, rename: (k: string) => string): any {
  if (Array.isArray(value)) return value.map((v) => renameKeys(v, rename));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [rename(k), renameKeys(v, rename)]));
}
