import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AccountFactory } from '../../lib';
import { synthTemplate } from '../../local/engine/synth';

/**
 * Security properties of the synthesized templates: the deployable app, a factory
 * with a customer-managed key, and one that works through a Control Tower
 * management role. The cdk-nag AwsSolutions checks (zero unacknowledged findings)
 * are in test/lib/nag.test.ts; these assertions are the ones the factory promises
 * whatever nag says.
 */

type Json = any;
const MANAGEMENT_ROLE_ARN = 'arn:aws:iam::222222222222:role/ControlTowerAdministration';

function factoryStack(props: ConstructorParameters<typeof AccountFactory>[2] = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Factory', { env: { account: '111111111111', region: 'us-east-1' } });
  return { app, stack, props };
}

function withKey(): Template {
  const { stack } = factoryStack();
  const encryptionKey = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  new AccountFactory(stack, 'AccountFactory', { encryptionKey });
  return Template.fromStack(stack);
}

function withManagementRole(): Template {
  const { stack } = factoryStack();
  const controlTowerManagementRole = iam.Role.fromRoleArn(stack, 'Management', MANAGEMENT_ROLE_ARN, {
    mutable: false,
  });
  new AccountFactory(stack, 'AccountFactory', { controlTowerManagementRole });
  return Template.fromStack(stack);
}

/** A policy value as text: references (Ref, GetAtt) become <ref>. */
function text(value: Json): string {
  if (typeof value === 'string') return value;
  if (value?.['Fn::Join']) return (value['Fn::Join'][1] as Json[]).map(text).join(value['Fn::Join'][0]);
  if (value?.['Fn::Sub'])
    return String(Array.isArray(value['Fn::Sub']) ? value['Fn::Sub'][0] : value['Fn::Sub']);
  if (value?.['Fn::GetAtt']) return `<${(value['Fn::GetAtt'] as string[]).join('.')}>`;
  return '<ref>';
}

interface Statement {
  where: string;
  Effect: string;
  Action: string[];
  Resource: string[];
  Condition?: Json;
}

/** Every statement of the identity policies (AWS::IAM::Policy, ManagedPolicy, inline role policies). */
function identityStatements(template: Template): Statement[] {
  const out: Statement[] = [];
  const add = (where: string, doc: Json) => {
    for (const s of doc?.Statement ?? []) {
      out.push({
        where,
        Effect: s.Effect,
        Action: [s.Action ?? []].flat(),
        Resource: [s.Resource ?? []].flat().map(text),
        Condition: s.Condition,
      });
    }
  };
  for (const [id, r] of Object.entries<Json>(template.findResources('AWS::IAM::Policy')))
    add(id, r.Properties.PolicyDocument);
  for (const [id, r] of Object.entries<Json>(template.findResources('AWS::IAM::ManagedPolicy')))
    add(id, r.Properties.PolicyDocument);
  for (const [id, r] of Object.entries<Json>(template.findResources('AWS::IAM::Role'))) {
    for (const p of r.Properties.Policies ?? []) add(`${id}/${p.PolicyName}`, p.PolicyDocument);
  }
  return out;
}

/** Does a resource policy deny every request that is not over TLS? */
function deniesInsecureTransport(doc: Json): boolean {
  return (doc?.Statement ?? []).some(
    (s: Json) =>
      s.Effect === 'Deny' &&
      [s.Condition?.Bool?.['aws:SecureTransport']].flat().map(String).includes('false'),
  );
}

const refersTo = (value: Json, logicalId: string) => (JSON.stringify(value) ?? '').includes(`"${logicalId}"`);

const variants: [string, () => Template][] = [
  ['the deployable app', () => Template.fromJSON(synthTemplate())],
  ['a factory with a customer-managed key', withKey],
  ['a factory working through a Control Tower management role', withManagementRole],
];

describe.each(variants)('%s', (_name, build) => {
  let template: Template;
  beforeAll(() => {
    template = build();
  });

  test('no identity policy statement allows an action with a wildcard', () => {
    const wild = identityStatements(template).filter(
      (s) => s.Effect === 'Allow' && s.Action.some((a) => a.includes('*')),
    );
    expect(wild).toEqual([]);
  });

  test('sts:AssumeRole only on the Control Tower and factory execution roles (or the management role)', () => {
    const assume = identityStatements(template).filter((s) =>
      s.Action.some((a) => a === 'sts:AssumeRole' || a === 'sts:*'),
    );
    expect(assume.length).toBeGreaterThan(0);
    const allowed = (r: string) =>
      r.endsWith(':role/AWSControlTowerExecution') ||
      r.endsWith(':role/AWSAFTExecution') ||
      r === MANAGEMENT_ROLE_ARN ||
      // The deployable app's management role in the delegated topology (ManagementAccountStack).
      r === 'arn:aws:iam::111111111111:role/AccountFactoryManagement' ||
      // The management role the factory creates in the management topology.
      /^<[A-Za-z]*ControlTowerAccessRole[0-9A-F]+\.Arn>$/.test(r);
    expect(
      assume.flatMap((s) => s.Resource.filter((r) => !allowed(r)).map((r) => `${s.where}: ${r}`)),
    ).toEqual([]);
  });

  test('every DynamoDB table is encrypted', () => {
    const tables = Object.entries<Json>(template.findResources('AWS::DynamoDB::Table'));
    expect(tables.length).toBeGreaterThanOrEqual(3);
    for (const [, t] of tables) expect(t.Properties.SSESpecification).toMatchObject({ SSEEnabled: true });
  });

  test('every SNS topic is encrypted, and its policy denies requests without TLS', () => {
    const topics = Object.entries<Json>(template.findResources('AWS::SNS::Topic'));
    const policies = Object.values<Json>(template.findResources('AWS::SNS::TopicPolicy'));
    expect(topics.length).toBeGreaterThanOrEqual(2);
    for (const [id, t] of topics) {
      expect(t.Properties.KmsMasterKeyId).toBeDefined();
      const covering = policies.filter((p) => refersTo(p.Properties.Topics, id));
      expect([id, covering.some((p) => deniesInsecureTransport(p.Properties.PolicyDocument))]).toEqual([
        id,
        true,
      ]);
    }
  });

  test('every S3 bucket is encrypted, and its policy denies requests without TLS', () => {
    const buckets = Object.entries<Json>(template.findResources('AWS::S3::Bucket'));
    const policies = Object.values<Json>(template.findResources('AWS::S3::BucketPolicy'));
    for (const [id, b] of buckets) {
      expect(b.Properties.BucketEncryption?.ServerSideEncryptionConfiguration?.length).toBeGreaterThan(0);
      const covering = policies.filter((p) => refersTo(p.Properties.Bucket, id));
      expect([id, covering.some((p) => deniesInsecureTransport(p.Properties.PolicyDocument))]).toEqual([
        id,
        true,
      ]);
    }
  });

  test('every log group keeps its logs for a set time; no Lambda function is in a VPC', () => {
    const groups = Object.values<Json>(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThan(0);
    for (const g of groups) expect(g.Properties.RetentionInDays).toBeGreaterThan(0);
    for (const fn of Object.values<Json>(template.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.VpcConfig).toBeUndefined();
    }
  });
});

describe('with a customer-managed key', () => {
  let template: Template;
  let keyId: string;
  beforeAll(() => {
    template = withKey();
    keyId = Object.keys(template.findResources('AWS::KMS::Key'))[0];
  });

  test('tables, topics, buckets and log groups are encrypted with it', () => {
    for (const t of Object.values<Json>(template.findResources('AWS::DynamoDB::Table'))) {
      expect(t.Properties.SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
      expect(refersTo(t.Properties.SSESpecification.KMSMasterKeyId, keyId)).toBe(true);
    }
    for (const t of Object.values<Json>(template.findResources('AWS::SNS::Topic'))) {
      expect(refersTo(t.Properties.KmsMasterKeyId, keyId)).toBe(true);
    }
    const buckets = Object.entries<Json>(template.findResources('AWS::S3::Bucket'));
    const isLogDestination = (id: string) =>
      buckets.some(([, b]) => refersTo(b.Properties.LoggingConfiguration?.DestinationBucketName, id));
    for (const [id, b] of buckets) {
      const rule =
        b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault;
      // Server access logs can only be delivered to a bucket with S3-managed keys.
      const expected = isLogDestination(id) ? 'AES256' : 'aws:kms';
      expect([id, rule.SSEAlgorithm]).toEqual([id, expected]);
      if (expected === 'aws:kms') expect(refersTo(rule.KMSMasterKeyID, keyId)).toBe(true);
    }
    const groups = Object.values<Json>(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.filter((g) => !refersTo(g.Properties.KmsKeyId, keyId))).toEqual([]);
  });
});
