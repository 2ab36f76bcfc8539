import { HANDLER_METADATA_KEY } from '../../lambda/shared/env';

/**
 * Reads a synthesized CloudFormation template the way CloudFormation would deploy it
 * into one emulated account: intrinsic functions are resolved to local names and
 * ARNs, so the state machine definition that runs locally is the synthesized one.
 */
export const LOCAL_ACCOUNT = '111111111111';
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_PARTITION = 'aws';

export interface CfnResource {
  Type: string;
  Properties?: Record<string, any>;
  Metadata?: Record<string, any>;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
}

/** Where a template is deployed: one account and region of the emulated landing zone. */
export interface DeployTarget {
  account: string;
  region: string;
}

export interface LocalFunction {
  logicalId: string;
  name: string;
  arn: string;
  /** The function's execution role (its ARN, path included). */
  roleArn: string;
  /** lambda/<handler>/index.ts, or another module path given in the metadata. */
  handler: string;
  environment: Record<string, string>;
  timeoutSeconds: number;
}

export interface LocalTable {
  logicalId: string;
  name: string;
  arn: string;
  keySchema: { AttributeName: string; KeyType: string }[];
  attributeDefinitions: { AttributeName: string; AttributeType: string }[];
  globalSecondaryIndexes?: { IndexName: string; KeySchema: any[]; Projection: any }[];
  hasStream: boolean;
}

export interface LocalStateMachine {
  logicalId: string;
  name: string;
  arn: string;
  definition: any;
  /** The role the state machine's tasks act as. */
  roleArn: string;
}

/** An IAM role of the template, with every policy CloudFormation would attach to it. */
export interface LocalRole {
  logicalId: string;
  name: string;
  path: string;
  arn: string;
  trustPolicy: any;
  /** Inline policies (the role's own and every AWS::IAM::Policy naming it). */
  policies: any[];
  managedPolicyArns: string[];
}

/** A custom resource and the handler function that serves it (through the provider framework). */
export interface LocalCustomResource {
  logicalId: string;
  type: string;
  /** The function with a handler under lambda/ that serves it. */
  functionArn: string;
  /** Served through the custom resource provider framework (the handler returns its result). */
  viaProvider: boolean;
  properties: Record<string, unknown>;
}

export interface LocalRule {
  logicalId: string;
  eventPattern?: any;
  scheduleExpression?: string;
  targetArns: string[];
  /**
   * Per target: how many times EventBridge retries a failed delivery (the target's
   * RetryPolicy.MaximumRetryAttempts; EventBridge's default is 185).
   */
  retryAttempts?: number[];
  enabled: boolean;
}

export interface LocalEventSourceMapping {
  functionName: string;
  eventSourceArn: string;
  onFailureDestination?: string;
}

export interface ResolvedTemplate {
  target: DeployTarget;
  functions: LocalFunction[];
  roles: LocalRole[];
  customResources: LocalCustomResource[];
  tables: LocalTable[];
  stateMachines: LocalStateMachine[];
  topics: { logicalId: string; arn: string }[];
  rules: LocalRule[];
  eventSourceMappings: LocalEventSourceMapping[];
  resolve(value: unknown): any;
}

/** The physical name and ARN an emulated deployment gives each resource. */
function physical(
  logicalId: string,
  resource: CfnResource,
  target: DeployTarget,
): { ref: string; attrs: Record<string, string> } {
  const p = resource.Properties ?? {};
  const arnOf = (service: string, res: string) =>
    `arn:${LOCAL_PARTITION}:${service}:${target.region}:${target.account}:${res}`;
  switch (resource.Type) {
    case 'AWS::Lambda::Function':
      return { ref: logicalId, attrs: { Arn: arnOf('lambda', `function:${logicalId}`) } };
    case 'AWS::DynamoDB::Table': {
      const arn = arnOf('dynamodb', `table/${logicalId}`);
      return { ref: logicalId, attrs: { Arn: arn, StreamArn: `${arn}/stream/local` } };
    }
    case 'AWS::StepFunctions::StateMachine': {
      const arn = arnOf('states', `stateMachine:${logicalId}`);
      return { ref: arn, attrs: { Arn: arn, Name: logicalId } };
    }
    case 'AWS::SNS::Topic': {
      const arn = arnOf('sns', logicalId);
      return { ref: arn, attrs: { TopicArn: arn, TopicName: logicalId } };
    }
    case 'AWS::SQS::Queue':
      return {
        ref: `https://sqs.local/${logicalId}`,
        attrs: { Arn: arnOf('sqs', logicalId), QueueName: logicalId },
      };
    case 'AWS::S3::Bucket': {
      const name = logicalId.toLowerCase().slice(0, 63);
      return { ref: name, attrs: { Arn: `arn:aws:s3:::${name}`, DomainName: `${name}.s3.amazonaws.com` } };
    }
    case 'AWS::IAM::Role': {
      const name = typeof p.RoleName === 'string' ? p.RoleName : logicalId;
      const path = typeof p.Path === 'string' ? p.Path : '/';
      return {
        ref: name,
        attrs: { Arn: `arn:${LOCAL_PARTITION}:iam::${target.account}:role${path}${name}`, RoleId: logicalId },
      };
    }
    case 'AWS::KMS::Key':
      return { ref: logicalId, attrs: { Arn: arnOf('kms', `key/${logicalId}`), KeyId: logicalId } };
    case 'AWS::Logs::LogGroup':
      return { ref: logicalId, attrs: { Arn: arnOf('logs', `log-group:${logicalId}:*`) } };
    case 'AWS::CodeBuild::Project':
      return { ref: logicalId, attrs: { Arn: arnOf('codebuild', `project/${logicalId}`) } };
    case 'AWS::Events::Rule':
      return { ref: logicalId, attrs: { Arn: arnOf('events', `rule/${logicalId}`) } };
    default: {
      const name = typeof p.Name === 'string' ? p.Name : logicalId;
      return { ref: name, attrs: { Arn: arnOf('local', logicalId) } };
    }
  }
}

export function resolveTemplate(
  template: CfnTemplate,
  target: DeployTarget = { account: LOCAL_ACCOUNT, region: LOCAL_REGION },
): ResolvedTemplate {
  const PSEUDO: Record<string, string> = {
    'AWS::AccountId': target.account,
    'AWS::Region': target.region,
    'AWS::Partition': LOCAL_PARTITION,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': 'AccountFactory',
    'AWS::NoValue': '',
  };
  const resources = template.Resources ?? {};
  const names = new Map(Object.entries(resources).map(([id, r]) => [id, physical(id, r, target)]));

  const resolve = (value: unknown): any => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1) {
      const [k] = keys;
      const arg = obj[k] as any;
      switch (k) {
        case 'Ref': {
          if (arg in PSEUDO) return PSEUDO[arg];
          const n = names.get(arg);
          if (!n) throw new Error(`Template Ref to unknown resource ${arg}`);
          return n.ref;
        }
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? arg : String(arg).split('.');
          const n = names.get(id);
          if (!n) throw new Error(`Template GetAtt on unknown resource ${id}`);
          const v = n.attrs[attr];
          if (v === undefined) throw new Error(`Template GetAtt ${id}.${attr} is not emulated`);
          return v;
        }
        case 'Fn::Join': {
          const [sep, parts] = arg;
          return resolve(parts).join(sep);
        }
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
          const local = resolve(vars ?? {});
          return String(text).replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
            if (name in local) return local[name];
            if (name in PSEUDO) return PSEUDO[name];
            const [id, attr] = name.split('.');
            const n = names.get(id);
            if (!n) throw new Error(`Template Fn::Sub names unknown ${name}`);
            return attr ? n.attrs[attr] : n.ref;
          });
        }
        case 'Fn::Select': {
          const [index, list] = arg;
          return resolve(list)[Number(resolve(index))];
        }
        case 'Fn::Split': {
          const [sep, text] = arg;
          return String(resolve(text)).split(sep);
        }
        case 'Fn::If':
        case 'Fn::ImportValue':
        case 'Fn::FindInMap':
          throw new Error(`Template function ${k} is not emulated`);
        default:
          break;
      }
    }
    return Object.fromEntries(Object.entries(obj).map(([kk, v]) => [kk, resolve(v)]));
  };

  const functions: LocalFunction[] = [];
  const tables: LocalTable[] = [];
  const stateMachines: LocalStateMachine[] = [];
  const topics: { logicalId: string; arn: string }[] = [];
  const rules: LocalRule[] = [];
  const eventSourceMappings: LocalEventSourceMapping[] = [];
  const roles = new Map<string, LocalRole>();
  const policies: { roles: string[]; document: any }[] = [];
  const customResources: LocalCustomResource[] = [];
  /** Every function's environment by ARN, framework functions included (to follow a provider). */
  const functionEnv = new Map<string, Record<string, any>>();

  for (const [id, r] of Object.entries(resources)) {
    const p = r.Properties ?? {};
    switch (r.Type) {
      case 'AWS::IAM::Role': {
        const n = names.get(id)!;
        roles.set(n.ref, {
          logicalId: id,
          name: n.ref,
          path: typeof p.Path === 'string' ? p.Path : '/',
          arn: n.attrs.Arn,
          trustPolicy: resolve(p.AssumeRolePolicyDocument),
          policies: (p.Policies ?? []).map((x: any) => resolve(x.PolicyDocument)),
          managedPolicyArns: (p.ManagedPolicyArns ?? []).map((x: unknown) => String(resolve(x))),
        });
        break;
      }
      case 'AWS::IAM::Policy':
        policies.push({
          roles: (p.Roles ?? []).map((x: unknown) => String(resolve(x))),
          document: p.PolicyDocument,
        });
        break;
      case 'AWS::Lambda::Function': {
        functionEnv.set(names.get(id)!.attrs.Arn, p.Environment?.Variables ?? {});
        const handler = r.Metadata?.[HANDLER_METADATA_KEY];
        if (typeof handler !== 'string') break; // framework functions (custom resources, log retention)
        functions.push({
          logicalId: id,
          name: id,
          arn: names.get(id)!.attrs.Arn,
          roleArn: resolve(p.Role),
          handler,
          environment: resolve(p.Environment?.Variables ?? {}),
          timeoutSeconds: Number(p.Timeout ?? 3),
        });
        break;
      }
      case 'AWS::DynamoDB::Table':
        tables.push({
          logicalId: id,
          name: id,
          arn: names.get(id)!.attrs.Arn,
          keySchema: p.KeySchema,
          attributeDefinitions: p.AttributeDefinitions,
          globalSecondaryIndexes: p.GlobalSecondaryIndexes,
          hasStream: Boolean(p.StreamSpecification),
        });
        break;
      case 'AWS::StepFunctions::StateMachine': {
        const raw =
          p.DefinitionString !== undefined
            ? resolve(p.DefinitionString)
            : JSON.stringify(resolve(p.Definition));
        const substituted = p.DefinitionSubstitutions ? resolve(p.DefinitionSubstitutions) : {};
        const text = String(raw).replace(/\$\{([A-Za-z0-9_]+)\}/g, (m, k: string) =>
          k in substituted ? substituted[k] : m,
        );
        stateMachines.push({
          logicalId: id,
          name: id,
          arn: names.get(id)!.ref,
          definition: JSON.parse(text),
          roleArn: resolve(p.RoleArn),
        });
        break;
      }
      case 'AWS::SNS::Topic':
        topics.push({ logicalId: id, arn: names.get(id)!.ref });
        break;
      case 'AWS::Events::Rule':
        rules.push({
          logicalId: id,
          eventPattern: p.EventPattern ? resolve(p.EventPattern) : undefined,
          scheduleExpression: p.ScheduleExpression,
          targetArns: (p.Targets ?? []).map((t: any) => resolve(t.Arn)),
          retryAttempts: (p.Targets ?? []).map((t: any) => t.RetryPolicy?.MaximumRetryAttempts ?? 185),
          enabled: p.State !== 'DISABLED',
        });
        break;
      case 'AWS::Lambda::EventSourceMapping':
        eventSourceMappings.push({
          functionName: resolve(p.FunctionName),
          eventSourceArn: resolve(p.EventSourceArn),
          onFailureDestination: p.DestinationConfig?.OnFailure?.Destination
            ? resolve(p.DestinationConfig.OnFailure.Destination)
            : undefined,
        });
        break;
      default:
        if (r.Type.startsWith('Custom::') || r.Type === 'AWS::CloudFormation::CustomResource') {
          customResources.push({
            logicalId: id,
            type: r.Type,
            functionArn: '',
            viaProvider: false,
            properties: p,
          });
        }
        break;
    }
  }
  for (const policy of policies) {
    for (const roleName of policy.roles) roles.get(roleName)?.policies.push(resolve(policy.document));
  }
  // A custom resource's ServiceToken is the provider framework's function, which invokes
  // the user's handler named in its environment.
  for (const c of customResources) {
    const token = String(resolve(c.properties.ServiceToken));
    const framework = functionEnv.get(token);
    const user = framework?.USER_ON_EVENT_FUNCTION_ARN;
    c.functionArn = user ? String(resolve(user)) : token;
    c.viaProvider = user !== undefined;
    c.properties = resolve(c.properties);
  }
  return {
    target,
    functions,
    roles: [...roles.values()],
    customResources,
    tables,
    stateMachines,
    topics,
    rules,
    eventSourceMappings,
    resolve,
  };
}
