import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AccountFactory, AccountFactoryProps } from '../../lib/account-factory';
import { AccountFactoryStack, STACK_OUTPUTS } from '../../lib/account-factory-stack';
import { RERUN_STEP } from '../../lib/rerun-customizations';
import { definitionOf, identityStatements, newStack } from './helpers';

function build(props: AccountFactoryProps = {}) {
  const { stack } = newStack();
  const factory = new AccountFactory(stack, 'Factory', props);
  return { factory, template: Template.fromStack(stack) };
}

describe('customizations re-run state machine', () => {
  const { template } = build();
  const asl = definitionOf(template, 'FactoryRerun');

  test('a Map over $.accountIds, 10 at once by default, results at $.results', () => {
    const map = asl.States[RERUN_STEP.EACH_ACCOUNT];
    expect(asl.StartAt).toBe(RERUN_STEP.EACH_ACCOUNT);
    expect(asl.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.accountIds',
      MaxConcurrency: 10,
      ResultPath: '$.results',
      ItemSelector: { 'accountId.$': '$$.Map.Item.Value' },
    });
  });

  test('per account: metadata, ACTIVE check, pipeline Lambda, pipeline start; no Control Tower call', () => {
    const states = asl.States[RERUN_STEP.EACH_ACCOUNT].ItemProcessor.States;
    expect(states[RERUN_STEP.READ_METADATA].Resource).toMatch(/:states:::dynamodb:getItem$/);
    expect(states[RERUN_STEP.MANAGED].Choices[0]).toMatchObject({
      Variable: '$.metadata.Item.status.S',
      StringEquals: 'ACTIVE',
    });
    // The step Lambda of the workflow (its function ARN is the Resource), with the workflow's payload.
    expect(states[RERUN_STEP.CREATE_ACCOUNT_PIPELINE].Parameters).toMatchObject({ 'state.$': '$' });
    expect(states[RERUN_STEP.START_PIPELINE].Resource).toMatch(
      /:states:::aws-sdk:codepipeline:startPipelineExecution$/,
    );
    const resources = Object.values<any>(states)
      .map((s) => s.Resource)
      .filter(Boolean);
    expect(resources.join(' ')).not.toMatch(/servicecatalog|organizations|controltower/);
    expect(states[RERUN_STEP.CHECK].Resource).toMatch(/:states:::aws-sdk:codepipeline:getPipelineExecution$/);
    expect(states[RERUN_STEP.WAIT]).toMatchObject({ Type: 'Wait', Seconds: 30, Next: RERUN_STEP.CHECK });
    // Every task sends its errors to the per-account failure result, so one account never stops the others.
    for (const name of [
      RERUN_STEP.READ_METADATA,
      RERUN_STEP.CREATE_ACCOUNT_PIPELINE,
      RERUN_STEP.START_PIPELINE,
      RERUN_STEP.CHECK,
    ]) {
      expect(states[name].Catch[0]).toMatchObject({ ErrorEquals: ['States.ALL'], Next: RERUN_STEP.FAILED });
    }
  });

  test('retries CodePipeline and DynamoDB under the names Step Functions reports for them', () => {
    const states = asl.States[RERUN_STEP.EACH_ACCOUNT].ItemProcessor.States;
    const retried = (name: string) =>
      (states[name].Retry ?? []).flatMap((r: { ErrorEquals: string[] }) => r.ErrorEquals);
    for (const name of [RERUN_STEP.START_PIPELINE, RERUN_STEP.CHECK]) {
      expect(retried(name)).toEqual(
        expect.arrayContaining([
          'CodePipeline.ThrottlingException',
          'CodePipeline.ServiceUnavailableException',
          'CodePipeline.InternalFailureException',
        ]),
      );
    }
    expect(retried(RERUN_STEP.READ_METADATA)).toEqual(
      expect.arrayContaining([
        'DynamoDB.ProvisionedThroughputExceededException',
        'DynamoDB.ThrottlingException',
        'DynamoDB.InternalServerErrorException',
      ]),
    );
    // A retry list never names an error without the service prefix: it would never match.
    for (const name of [RERUN_STEP.READ_METADATA, RERUN_STEP.START_PIPELINE, RERUN_STEP.CHECK]) {
      for (const error of retried(name)) expect(error).toMatch(/^(CodePipeline|DynamoDB)\.\w+$/);
    }
  });

  test('its role may read the metadata item and start the account pipelines, nothing in Control Tower', () => {
    const statements = identityStatements(template).filter((s) => /Rerun/.test(s.policy));
    // IAM action names are case-insensitive.
    const actions = statements.flatMap((s) => s.Action).map((a) => a.toLowerCase());
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:getitem', 'codepipeline:startpipelineexecution']),
    );
    expect(actions.join(' ')).not.toMatch(
      /servicecatalog|organizations:|dynamodb:(putitem|updateitem|deleteitem)/,
    );
  });

  test('rerunConcurrency sets MaxConcurrency; out of range is rejected', () => {
    const { template: t } = build({ rerunConcurrency: 3 });
    expect(definitionOf(t, 'FactoryRerun').States[RERUN_STEP.EACH_ACCOUNT].MaxConcurrency).toBe(3);
    for (const bad of [0, 41, 2.5]) {
      expect(() => build({ rerunConcurrency: bad })).toThrow(
        /rerunConcurrency must be an integer from 1 to 40/,
      );
    }
  });
});

test('the stack outputs what the CLI reads', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new AccountFactoryStack(app, 'Factory');
  const outputs = Template.fromStack(stack).toJSON().Outputs;
  // The drift check's outputs exist only with driftDetection, the approvals' only with approvals.
  const optional: string[] = [
    STACK_OUTPUTS.DRIFT_FUNCTION,
    STACK_OUTPUTS.DRIFT_STATE_TABLE,
    STACK_OUTPUTS.APPROVALS_TABLE,
    STACK_OUTPUTS.APPROVER_ROLE,
  ];
  expect(Object.keys(outputs).sort()).toEqual(
    Object.values(STACK_OUTPUTS)
      .filter((o) => !optional.includes(o))
      .sort(),
  );
  expect(outputs[STACK_OUTPUTS.SEMAPHORE_LIMIT].Value).toBe('5');
  expect(outputs[STACK_OUTPUTS.SEMAPHORE_LOCK].Value).toBe('control-tower');
  expect(outputs[STACK_OUTPUTS.RERUN_STATE_MACHINE].Value).toEqual({ Ref: expect.stringMatching(/Rerun/) });
});
