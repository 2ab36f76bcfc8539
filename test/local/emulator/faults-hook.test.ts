import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { ListRootsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { clientHook, createClient } from '../../../lambda/shared/clients';
import { awsError, LandingZone, trustAccountPolicy } from '../../../local/emulator';
import { credentialsIn, landingZone, rejection, uninstall } from './fixture';

afterEach(uninstall);

/**
 * A client under the emulator without the handlers' busy retry (createClient adds
 * it): what the emulator itself answers, after the SDK's own retry.
 */
function rawClient<C>(Client: new (config: object) => C, config: object = {}): C {
  const hook = clientHook();
  const client = new Client({ ...config, ...(hook?.config?.(Client.name) ?? {}), ...config });
  hook?.attach?.(client, Client.name);
  return client;
}

async function throttledRun(seed: number): Promise<{ outcomes: string[]; lz: LandingZone }> {
  const { lz } = landingZone({ seed, faults: { throttle: { rate: 0.3 } } });
  const sts = rawClient(STSClient);
  const outcomes: string[] = [];
  for (let n = 0; n < 200; n++) {
    try {
      await sts.send(new GetCallerIdentityCommand({}));
      outcomes.push('ok');
    } catch (e) {
      outcomes.push((e as Error).name);
    }
  }
  return { outcomes, lz };
}

describe('fault injection', () => {
  test('throttles a seeded fraction of calls, counts each, and replays the same way with the same seed', async () => {
    const first = await throttledRun(42);
    const throttled = first.outcomes.filter((o) => o !== 'ok');
    expect(throttled.length).toBeGreaterThan(30);
    expect(throttled.length).toBeLessThan(90);
    // STS's throttling error (query protocol): Throttling.
    expect(new Set(throttled)).toEqual(new Set(['Throttling']));
    expect(first.lz.faultsInjected.total).toBe(throttled.length);
    expect(first.lz.faultsInjected.byKind['throttle:STS.GetCallerIdentity']).toBe(throttled.length);
    expect(first.lz.callCounts['STS.GetCallerIdentity']).toBe(200);
    uninstall();

    const again = await throttledRun(42);
    expect(again.outcomes).toEqual(first.outcomes);
    uninstall();
    const other = await throttledRun(43);
    expect(other.outcomes).not.toEqual(first.outcomes);
  });

  test('a throttled call has no effect; errors carry $fault and $metadata; only the named services are throttled', async () => {
    const { lz } = landingZone({
      organization: {
        ous: [{ name: 'Sandbox' }],
        accounts: [{ name: 'M', email: 'm@example.com', ou: 'Sandbox' }],
      },
    });
    const member = lz.account('m@example.com')!;
    const iam = rawClient(IAMClient, { credentials: await credentialsIn(member.id) });
    lz.setFaults({ throttle: { rate: 0.5, services: ['IAMClient', 'OrganizationsClient'] } });

    let created = 0;
    const errors: (Error & { $fault?: string; $metadata?: { httpStatusCode?: number } })[] = [];
    for (let n = 0; n < 40; n++) {
      try {
        await iam.send(
          new CreateRoleCommand({
            RoleName: `Role${n}`,
            AssumeRolePolicyDocument: trustAccountPolicy('111111111111'),
          }),
        );
        created += 1;
      } catch (e) {
        errors.push(e as Error);
      }
    }
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({ name: 'Throttling', $fault: 'client' });
    expect(errors[0].$metadata!.httpStatusCode).toBe(400);
    // Only the roles whose call went through exist (plus the Control Tower role).
    expect(lz.roles(member.id)).toHaveLength(created + 1);

    const orgErrors = new Set<string>();
    const orgs = rawClient(OrganizationsClient);
    for (let n = 0; n < 60; n++) {
      await orgs.send(new ListRootsCommand({})).catch((e: Error) => orgErrors.add(e.name));
    }
    expect(orgErrors).toEqual(new Set(['TooManyRequestsException', 'ConcurrentModificationException']));

    // STS is not named: never throttled.
    for (let n = 0; n < 20; n++) await createClient(STSClient).send(new GetCallerIdentityCommand({}));
    lz.setFaults({});
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'AfterFaults',
        AssumeRolePolicyDocument: trustAccountPolicy('111111111111'),
      }),
    );
  });
});

describe('the client hook', () => {
  test('a registered service serves its client; the principal is passed along', async () => {
    const { lz } = landingZone();
    const seen: { command: string; input: unknown; account: string }[] = [];
    lz.registerService('SFNClient', async (command, input, principal) => {
      seen.push({ command, input, account: principal.accountId });
      if ((input as { name?: string }).name === 'dup') {
        throw awsError('SFNClient', 'ExecutionAlreadyExists', 'Execution Already Exists');
      }
      return { executionArn: 'arn:aws:states:us-east-1:111111111111:execution:sm:x', startDate: new Date(0) };
    });
    const sfn = createClient(SFNClient);
    const out = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: 'arn:aws:states:us-east-1:111111111111:stateMachine:sm',
        name: 'x',
      }),
    );
    expect(out.executionArn).toContain(':execution:sm:x');
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(seen).toEqual([
      {
        command: 'StartExecutionCommand',
        input: expect.objectContaining({ name: 'x' }),
        account: '111111111111',
      },
    ]);
    const dup = await rejection(
      sfn.send(
        new StartExecutionCommand({
          stateMachineArn: 'arn:aws:states:us-east-1:111111111111:stateMachine:sm',
          name: 'dup',
        }),
      ),
    );
    expect(dup.name).toBe('ExecutionAlreadyExists');
  });

  test('DynamoDB passes through untouched; other clients get the emulator middleware', () => {
    landingZone();
    const ddb = createClient(DynamoDBClient, { endpoint: 'http://127.0.0.1:1' });
    const sts = createClient(STSClient);
    expect(ddb.middlewareStack.identify().some((m) => m.startsWith('landingZoneEmulator'))).toBe(false);
    expect(sts.middlewareStack.identify().some((m) => m.startsWith('landingZoneEmulator'))).toBe(true);
  });

  test('a command nobody serves fails by name instead of reaching AWS', async () => {
    landingZone();
    const sfn = createClient(SFNClient);
    const e = await rejection(
      sfn.send(
        new StartExecutionCommand({
          stateMachineArn: 'arn:aws:states:us-east-1:111111111111:stateMachine:sm',
        }),
      ),
    );
    expect(e.name).toBe('UnsupportedOperation');
    expect(e.message).toContain('SFN.StartExecution');
  });
});

describe('Step Functions AWS SDK integrations', () => {
  test('callAwsService serves aws-sdk tasks with PascalCase keys and Service.NameException errors', async () => {
    const { lz } = landingZone();
    const products = await lz.callAwsService('servicecatalog', 'searchProducts', {});
    expect((products.ProductViewSummaries as { Name: string }[])[0].Name).toBe(
      'AWS Control Tower Account Factory',
    );

    const missing = await rejection(
      lz.callAwsService('servicecatalog', 'describeRecord', { Id: 'rec-nope' }),
    );
    expect(missing.name).toBe('ServiceCatalog.ResourceNotFoundException');

    const notFound = await rejection(lz.callAwsService('codepipeline', 'getPipeline', { Name: 'nope' }));
    expect(notFound.name).toBe('CodePipeline.PipelineNotFoundException');
    const busy = await rejection(
      lz.callAwsService('ec2', 'deleteVpc', { VpcId: lz.defaultVpcs('111111111111')[0].vpcId }),
    );
    expect(busy.name).toBe('Ec2.DependencyViolationException');
  });
});
