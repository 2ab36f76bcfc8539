import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExampleProvisioningCustomizations } from '../../examples/provisioning-customizations';
import { AccountFactory } from '../../lib/account-factory';
import { AccountFactoryStack } from '../../lib/account-factory-stack';
import { AccountRequest } from '../../lib/account-request';
import { loadRequestFiles } from '../../lib/request-files';
import { NO_BUNDLING } from './helpers';

/** Synthesizes with the AwsSolutions checks: throws while any finding is not acknowledged. */
function synthWithNag(build: (app: App) => Stack): Stack {
  const app = new App({ context: NO_BUNDLING });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = build(app);
  app.synth();
  return stack;
}

/** Every acknowledgement recorded in the app: construct path, rule id, reason. */
function acknowledgements(stack: Stack): { path: string; id: string; reason: string }[] {
  const out: { path: string; id: string; reason: string }[] = [];
  for (const c of stack.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        // Only cdk-nag rules (aws-cdk-lib acknowledges some of its own template checks).
        if (!/^(annotation::)?AwsSolutions-/i.test(id)) continue;
        out.push({ path: c.node.path, id: id.replace(/^annotation::/i, ''), reason });
      }
    }
  }
  return out;
}

const requests = () =>
  loadRequestFiles('examples/account-requests').map((r) => ({ request: r.request, source: r.source }));

describe('cdk-nag AwsSolutions on AccountFactoryStack', () => {
  test('default settings, the example requests and customizations: no unacknowledged finding', () => {
    expect(() =>
      synthWithNag(
        (app) =>
          new AccountFactoryStack(app, 'Factory', {
            accountRequests: requests(),
            provisioningCustomizations: (scope) =>
              new ExampleProvisioningCustomizations(scope, 'Custom').stateMachine,
          }),
      ),
    ).not.toThrow();
  });

  test('every option on, a concrete environment, a customer-managed key and a management role: no unacknowledged finding', () => {
    expect(() =>
      synthWithNag((app) => {
        const stack = new Stack(app, 'Factory', { env: { account: '111111111111', region: 'eu-west-1' } });
        const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
        const custom = new ExampleProvisioningCustomizations(stack, 'Custom', { encryptionKey: key });
        const factory = new AccountFactory(stack, 'AccountFactory', {
          encryptionKey: key,
          provisioningCustomizations: custom.stateMachine,
          maxConcurrentAccountOperations: 10,
          controlTowerManagementRole: iam.Role.fromRoleArn(
            stack,
            'Management',
            'arn:aws:iam::222222222222:role/account-factory-management',
          ),
          featureOptions: {
            deleteDefaultVpcs: true,
            enterpriseSupport: true,
            cloudTrailDataEvents: { trailName: 'org-trail' },
          },
          controlTowerPollInterval: Duration.seconds(30),
          customizationsPipelineNamePrefix: 'custom-prefix',
        });
        for (const [i, r] of requests().entries())
          new AccountRequest(stack, `Request${i}`, { ...r.request, factory });
        return stack;
      }),
    ).not.toThrow();
  });

  test('every option on without a management role: no unacknowledged finding', () => {
    expect(() =>
      synthWithNag((app) => {
        const stack = new Stack(app, 'Factory');
        new AccountFactory(stack, 'AccountFactory', {
          featureOptions: {
            deleteDefaultVpcs: true,
            enterpriseSupport: true,
            cloudTrailDataEvents: { trailName: 'org-trail' },
          },
        });
        return stack;
      }),
    ).not.toThrow();
  });

  test('approvals (the stack with its approver role, and a factory with a customer-managed key): no unacknowledged finding', () => {
    expect(() =>
      synthWithNag(
        (app) =>
          new AccountFactoryStack(app, 'Factory', {
            factory: { approvals: { operations: ['CREATE', 'UPDATE', 'IMPORT', 'REMOVE'] } },
          }),
      ),
    ).not.toThrow();
    expect(() =>
      synthWithNag((app) => {
        const stack = new Stack(app, 'Factory', { env: { account: '111111111111', region: 'eu-west-1' } });
        const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
        new AccountFactory(stack, 'AccountFactory', {
          encryptionKey: key,
          approvals: { operations: ['CREATE'], allowSelfApproval: true },
        });
        return stack;
      }),
    ).not.toThrow();
  });

  test('a finding that is not acknowledged fails the synth', () => {
    expect(() =>
      synthWithNag((app) => {
        const stack = new AccountFactoryStack(app, 'Factory');
        // A role with a wildcard resource nobody acknowledged.
        const role = new iam.Role(stack, 'Extra', {
          assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        });
        role.addToPolicy(
          new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::bucket/*'] }),
        );
        return stack;
      }),
    ).toThrow(/AwsSolutions-IAM5/);
  });

  test('each acknowledgement is narrow: a finding id (with the finding for IAM5 and IAM4) and a reason, on a specific construct', () => {
    const stack = synthWithNag(
      (app) =>
        new AccountFactoryStack(app, 'Factory', {
          accountRequests: requests(),
          provisioningCustomizations: (scope) =>
            new ExampleProvisioningCustomizations(scope, 'Custom').stateMachine,
        }),
    );
    const acks = acknowledgements(stack);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.path).not.toBe(stack.node.path); // never the whole stack
      expect(ack.id).toMatch(/^AwsSolutions-[A-Z]+\d+/);
      if (/^AwsSolutions-IAM[45]/.test(ack.id)) expect(ack.id).toMatch(/\[(Resource|Policy)::.+\]$/);
      expect(ack.reason.length).toBeGreaterThan(20);
    }
    // Only the findings the design accepts are acknowledged.
    const rules = new Set(acks.map((a) => a.id.replace(/\[.*$/, '')));
    // No AWS-managed policy anywhere (IAM4): the request writer is a handler with its own role.
    expect([...rules].sort()).toEqual([
      'AwsSolutions-CB4',
      'AwsSolutions-IAM5',
      'AwsSolutions-L1',
      'AwsSolutions-S1',
    ]);
    // `Resource::*` acknowledgements name the actions they are for (iam.test.ts checks the policies hold no others).
    const star = acks.filter((a) => a.id === 'AwsSolutions-IAM5[Resource::*]');
    expect(star.length).toBeGreaterThan(0);
    for (const ack of star) expect(ack.reason).toMatch(/\b[a-z0-9-]+:[A-Z][A-Za-z]+\b|X-Ray/);
  });

  test('an unacknowledged state machine without logs would be reported (the checks run on this stack)', () => {
    expect(() =>
      synthWithNag((app) => {
        const stack = new AccountFactoryStack(app, 'Factory');
        new sfn.StateMachine(stack, 'Bare', {
          definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'P')),
        });
        return stack;
      }),
    ).toThrow(/AwsSolutions-SF1|AwsSolutions-SF2/);
  });
});
