import { createClient } from '../../lambda/shared/clients';

/**
 * Step Functions' AWS SDK and optimized service integrations
 * (`arn:aws:states:::aws-sdk:<service>:<action>`, `arn:aws:states:::dynamodb:updateItem`,
 * `arn:aws:states:::sns:publish`), served by the real SDK v3 clients, so the calls land
 * in dynalite or the emulated landing zone exactly as the handlers' calls do.
 */
interface ServiceEntry {
  /** Package of the SDK v3 client. */
  pkg: string;
  client: string;
  /** Prefix Step Functions puts before the service's error names (e.g. DynamoDB.ConditionalCheckFailedException). */
  errorPrefix: string;
  /**
   * The service's API names its members in camelCase. Step Functions takes and returns
   * PascalCase for every AWS SDK integration and converts for such services.
   */
  camelCase?: boolean;
}

const SERVICES: Record<string, ServiceEntry> = {
  codepipeline: {
    pkg: '@aws-sdk/client-codepipeline',
    client: 'CodePipelineClient',
    errorPrefix: 'CodePipeline',
    camelCase: true,
  },
  dynamodb: { pkg: '@aws-sdk/client-dynamodb', client: 'DynamoDBClient', errorPrefix: 'DynamoDB' },
  sns: { pkg: '@aws-sdk/client-sns', client: 'SNSClient', errorPrefix: 'SNS' },
  organizations: {
    pkg: '@aws-sdk/client-organizations',
    client: 'OrganizationsClient',
    errorPrefix: 'Organizations',
  },
  servicecatalog: {
    pkg: '@aws-sdk/client-service-catalog',
    client: 'ServiceCatalogClient',
    errorPrefix: 'ServiceCatalog',
  },
  iam: { pkg: '@aws-sdk/client-iam', client: 'IAMClient', errorPrefix: 'Iam' },
  sts: { pkg: '@aws-sdk/client-sts', client: 'STSClient', errorPrefix: 'Sts' },
};

/** Parses a Task Resource into a service integration, or undefined when it is not one. */
export function parseSdkResource(resource: string): { service: string; action: string } | undefined {
  let m = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)$/.exec(resource);
  if (m) return { service: m[1], action: m[2] };
  m = /^arn:aws:states:::(dynamodb|sns):([A-Za-z]+)$/.exec(resource);
  if (m) return { service: m[1], action: m[2] };
  return undefined;
}

export function isSupportedSdkResource(resource: string): boolean {
  const r = parseSdkResource(resource);
  return r !== undefined && r.service in SERVICES;
}

export class SdkTasks {
  private readonly clients = new Map<string, { send(command: unknown): Promise<any> }>();

  private client(service: string): {
    entry: ServiceEntry;
    client: { send(c: unknown): Promise<any> };
    mod: any;
  } {
    const entry = SERVICES[service];
    if (!entry) throw new Error(`Service integration ${service} is not emulated`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(entry.pkg);
    let client = this.clients.get(service);
    if (!client) {
      client = createClient(mod[entry.client]) as { send(c: unknown): Promise<any> };
      this.clients.set(service, client);
    }
    return { entry, client, mod };
  }

  async call(resource: string, input: any): Promise<unknown> {
    const parsed = parseSdkResource(resource);
    if (!parsed) throw new Error(`Not a service integration: ${resource}`);
    const { entry, client, mod } = this.client(parsed.service);
    const commandName = `${parsed.action[0].toUpperCase()}${parsed.action.slice(1)}Command`;
    const Command = mod[commandName];
    if (!Command) throw new Error(`${entry.pkg} has no ${commandName}`);
    const native = entry.camelCase ? renameKeys(input ?? {}, lowerFirst) : (input ?? {});
    try {
      const out = await client.send(new Command(native));
      const plain = JSON.parse(JSON.stringify(out ?? {}));
      delete plain.$metadata;
      return entry.camelCase ? renameKeys(plain, upperFirst) : plain;
    } catch (err) {
      const e = err as Error;
      const named = new Error(e.message);
      named.name = `${entry.errorPrefix}.${e.name}`;
      throw named;
    }
  }
}

const lowerFirst = (k: string) => k.charAt(0).toLowerCase() + k.slice(1);
const upperFirst = (k: string) => k.charAt(0).toUpperCase() + k.slice(1);

/** Renames every object key at any depth (values are left alone). */
function renameKeys(value: unknown, rename: (k: string) => string): any {
  if (Array.isArray(value)) return value.map((v) => renameKeys(v, rename));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [rename(k), renameKeys(v, rename)]));
}
