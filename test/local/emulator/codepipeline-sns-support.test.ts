import {
  CloudTrailClient,
  GetEventSelectorsCommand,
  PutEventSelectorsCommand,
} from '@aws-sdk/client-cloudtrail';
import {
  CodePipelineClient,
  CreatePipelineCommand,
  DeletePipelineCommand,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  ListPipelineExecutionsCommand,
  PipelineDeclaration,
  StartPipelineExecutionCommand,
  UpdatePipelineCommand,
} from '@aws-sdk/client-codepipeline';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateCaseCommand, DescribeCasesCommand, SupportClient } from '@aws-sdk/client-support';
import { createClient } from '../../../lambda/shared/clients';
import { CONTROL_TOWER_TRAIL, PipelineEvent } from '../../../local/emulator';
import { credentialsIn, landingZone, MINUTE, rejection, uninstall } from './fixture';

afterEach(uninstall);

function declaration(name: string): PipelineDeclaration {
  return {
    name,
    roleArn: 'arn:aws:iam::111111111111:role/pipeline-role',
    artifactStore: { type: 'S3', location: 'artifact-bucket' },
    stages: [
      {
        name: 'Source',
        actions: [
          {
            name: 'Source',
            actionTypeId: { category: 'Source', owner: 'AWS', provider: 'S3', version: '1' },
            configuration: { S3Bucket: 'customizations', S3ObjectKey: 'customizations.zip' },
            outputArtifacts: [{ name: 'src' }],
          },
        ],
      },
      {
        name: 'Customize',
        actions: [
          {
            name: 'Apply',
            actionTypeId: { category: 'Build', owner: 'AWS', provider: 'CodeBuild', version: '1' },
            configuration: { ProjectName: 'customizations' },
            inputArtifacts: [{ name: 'src' }],
          },
        ],
      },
    ],
  };
}

describe('CodePipeline', () => {
  test('create, update (version + 1), run: InProgress, then Succeeded after stageSeconds per stage, with events', async () => {
    const { clock, lz } = landingZone({ codePipeline: { stageSeconds: 120 } });
    const events: PipelineEvent[] = [];
    lz.onPipelineEvent((e) => events.push(e));
    const cp = createClient(CodePipelineClient);

    const created = await cp.send(new CreatePipelineCommand({ pipeline: declaration('acct-222') }));
    expect(created.pipeline!.version).toBe(1);
    const dup = await rejection(cp.send(new CreatePipelineCommand({ pipeline: declaration('acct-222') })));
    expect(dup.name).toBe('PipelineNameInUseException');
    const updated = await cp.send(new UpdatePipelineCommand({ pipeline: declaration('acct-222') }));
    expect(updated.pipeline!.version).toBe(2);
    expect((await cp.send(new GetPipelineCommand({ name: 'acct-222' }))).metadata!.pipelineArn).toBe(
      'arn:aws:codepipeline:us-east-1:111111111111:acct-222',
    );

    const { pipelineExecutionId } = await cp.send(new StartPipelineExecutionCommand({ name: 'acct-222' }));
    const running = await cp.send(
      new GetPipelineExecutionCommand({ pipelineName: 'acct-222', pipelineExecutionId }),
    );
    expect(running.pipelineExecution!.status).toBe('InProgress');
    expect(events.map((e) => e.state)).toEqual(['STARTED']);

    await clock.advance(3 * MINUTE);
    expect(lz.pipelineExecutions[0].stages.map((s) => s.status)).toEqual(['Succeeded', 'InProgress']);
    await clock.advance(2 * MINUTE);
    const done = await cp.send(
      new GetPipelineExecutionCommand({ pipelineName: 'acct-222', pipelineExecutionId }),
    );
    expect(done.pipelineExecution!.status).toBe('Succeeded');
    expect(done.pipelineExecution!.pipelineVersion).toBe(2);
    expect(events.map((e) => e.state)).toEqual(['STARTED', 'SUCCEEDED']);
    expect(events[1]).toMatchObject({
      pipeline: 'acct-222',
      executionId: pipelineExecutionId,
      account: '111111111111',
    });

    const list = await cp.send(new ListPipelineExecutionsCommand({ pipelineName: 'acct-222' }));
    expect(list.pipelineExecutionSummaries!.map((s) => s.status)).toEqual(['Succeeded']);
    await cp.send(new DeletePipelineCommand({ name: 'acct-222' }));
    expect((await rejection(cp.send(new GetPipelineCommand({ name: 'acct-222' })))).name).toBe(
      'PipelineNotFoundException',
    );
  });

  test('a runner decides the outcome; a failed stage is recorded', async () => {
    const { lz } = landingZone({
      codePipeline: {
        runner: async () => ({
          status: 'Failed',
          failedStage: 'Customize',
          message: 'terraform apply failed',
        }),
      },
    });
    const events: PipelineEvent[] = [];
    lz.onPipelineEvent((e) => events.push(e));
    const cp = createClient(CodePipelineClient);
    await cp.send(new CreatePipelineCommand({ pipeline: declaration('acct-333') }));
    const { pipelineExecutionId } = await cp.send(new StartPipelineExecutionCommand({ name: 'acct-333' }));
    await lz.pipelinesIdle();
    const e = await cp.send(
      new GetPipelineExecutionCommand({ pipelineName: 'acct-333', pipelineExecutionId }),
    );
    expect(e.pipelineExecution).toMatchObject({ status: 'Failed', statusSummary: 'terraform apply failed' });
    expect(lz.pipelineExecutions[0].stages.map((s) => s.status)).toEqual(['Succeeded', 'Failed']);
    expect(events[1]).toMatchObject({ state: 'FAILED', failedStage: 'Customize' });
  });

  test('refuses a pipeline CodePipeline would refuse', async () => {
    landingZone();
    const cp = createClient(CodePipelineClient);
    const one = declaration('one-stage');
    one.stages = one.stages!.slice(0, 1);
    expect((await rejection(cp.send(new CreatePipelineCommand({ pipeline: one })))).name).toBe(
      'InvalidStructureException',
    );
    const noSource = declaration('no-source');
    noSource.stages = [noSource.stages![1], { ...noSource.stages![1], name: 'Again' }];
    expect((await rejection(cp.send(new CreatePipelineCommand({ pipeline: noSource })))).name).toBe(
      'InvalidStructureException',
    );
  });
});

describe('SNS, Support and CloudTrail', () => {
  test('SNS stores published messages and refuses a subject SNS would refuse', async () => {
    const { clock, lz } = landingZone();
    const sns = createClient(SNSClient);
    const topic = 'arn:aws:sns:us-east-1:111111111111:account-factory-success';
    await clock.advance(MINUTE);
    const out = await sns.send(
      new PublishCommand({
        TopicArn: topic,
        Subject: 'Account vended: Team A',
        Message: JSON.stringify({ accountId: '200000000001' }),
        MessageAttributes: { operation: { DataType: 'String', StringValue: 'CREATE' } },
      }),
    );
    expect(out.MessageId).toBeDefined();
    expect(lz.messages(topic)).toEqual([
      expect.objectContaining({
        subject: 'Account vended: Team A',
        messageAttributes: { operation: { DataType: 'String', StringValue: 'CREATE' } },
        at: '2026-01-05T09:01:00.000Z',
      }),
    ]);
    const badSubject = await rejection(
      sns.send(new PublishCommand({ TopicArn: topic, Subject: 'line\nbreak', Message: 'x' })),
    );
    expect(badSubject.name).toBe('InvalidParameterException');
    const emptyAttr = await rejection(
      sns.send(
        new PublishCommand({
          TopicArn: topic,
          Message: 'x',
          MessageAttributes: { a: { DataType: 'String', StringValue: '' } },
        }),
      ),
    );
    expect(emptyAttr.name).toBe('InvalidParameterValueException');
    expect(lz.messages()).toHaveLength(1);
  });

  test('Support cases need a paid plan: the management account has one, a new account does not', async () => {
    const { lz } = landingZone({
      organization: {
        ous: [{ name: 'Sandbox' }],
        accounts: [{ name: 'M', email: 'm@example.com', ou: 'Sandbox' }],
      },
    });
    const support = createClient(SupportClient, { region: 'us-east-1' });
    const { caseId } = await support.send(
      new CreateCaseCommand({
        subject: 'Enable Enterprise Support for 200000000001',
        communicationBody: 'Please add the account.',
      }),
    );
    const cases = await support.send(new DescribeCasesCommand({ caseIdList: [caseId!] }));
    expect(cases.cases![0]).toMatchObject({
      caseId,
      subject: 'Enable Enterprise Support for 200000000001',
      status: 'opened',
    });

    const member = lz.account('m@example.com')!;
    const memberSupport = createClient(SupportClient, {
      region: 'us-east-1',
      credentials: await credentialsIn(member.id),
    });
    const e = await rejection(memberSupport.send(new DescribeCasesCommand({})));
    expect(e.name).toBe('SubscriptionRequiredException');
    expect(lz.supportCases).toHaveLength(1);
  });

  test('CloudTrail event selectors on the Control Tower trail', async () => {
    const { lz } = landingZone();
    const ct = createClient(CloudTrailClient);
    const before = await ct.send(new GetEventSelectorsCommand({ TrailName: CONTROL_TOWER_TRAIL }));
    expect(before.EventSelectors).toEqual([
      {
        ReadWriteType: 'All',
        IncludeManagementEvents: true,
        DataResources: [],
        ExcludeManagementEventSources: [],
      },
    ]);
    await ct.send(
      new PutEventSelectorsCommand({
        TrailName: before.TrailARN,
        EventSelectors: [
          {
            ReadWriteType: 'All',
            IncludeManagementEvents: true,
            DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3'] }],
          },
        ],
      }),
    );
    expect(lz.trail(CONTROL_TOWER_TRAIL)!.eventSelectors![0].DataResources).toEqual([
      { Type: 'AWS::S3::Object', Values: ['arn:aws:s3'] },
    ]);
    const missing = await rejection(ct.send(new GetEventSelectorsCommand({ TrailName: 'no-such-trail' })));
    expect(missing.name).toBe('TrailNotFoundException');
  });
});
