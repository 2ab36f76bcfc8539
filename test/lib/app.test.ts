import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../../bin/create-app';
import { STEP } from '../../lib/workflow/step-names';
import { definitionOf, NO_BUNDLING } from './helpers';

describe('createApp', () => {
  test('the default app: the example requests, the example customizations, nag checks passing', () => {
    const { app, stack, requestsDir } = createApp({ context: NO_BUNDLING });
    expect(requestsDir).toBe(path.resolve(__dirname, '..', '..', 'examples', 'account-requests'));
    const requestFiles = fs.readdirSync(requestsDir).filter((f) => /\.(json|ya?ml)$/.test(f));
    expect(stack.accountRequests).toHaveLength(requestFiles.length);
    expect(() => app.synth()).not.toThrow();
    const template = Template.fromStack(stack);
    template.resourceCountIs('Custom::AccountRequest', requestFiles.length);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 3);
    const asl = definitionOf(template, 'AccountFactoryWorkflow');
    expect(asl.States[STEP.PROVISIONING_CUSTOMIZATIONS].Resource).toMatch(/startExecution\.sync:2$/);
    // The example's function is marked for the local engine.
    const fns = Object.values(template.findResources('AWS::Lambda::Function')) as any[];
    expect(fns.map((f) => f.Metadata?.['cdk-account-factory:handler'])).toContain(
      'examples/provisioning-customizations/handler',
    );
  });

  test('context: exampleCustomizations=false and another requests directory', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'requests-'));
    try {
      fs.writeFileSync(
        path.join(dir, 'one.yaml'),
        'accountEmail: one@example.com\naccountName: one\norganizationalUnit: Sandbox\nsso: { email: one@example.com, firstName: One, lastName: Example }\n',
      );
      const { stack } = createApp({
        context: { ...NO_BUNDLING, requestsDir: dir, exampleCustomizations: 'false' },
      });
      const template = Template.fromStack(stack);
      template.resourceCountIs('Custom::AccountRequest', 1);
      template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
      expect(
        definitionOf(template, 'AccountFactoryWorkflow').States[STEP.PROVISIONING_CUSTOMIZATIONS].Type,
      ).toBe('Pass');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a bad request file fails the app, naming the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'requests-'));
    try {
      fs.writeFileSync(path.join(dir, 'typo.json'), JSON.stringify({ accountEmail: 'x@example.com' }));
      expect(() => createApp({ context: NO_BUNDLING, requestsDir: dir })).toThrow(
        /typo\.json: .*accountName/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a bad context value is an error', () => {
    expect(() => createApp({ context: { ...NO_BUNDLING, exampleCustomizations: 'maybe' } })).toThrow(
      /exampleCustomizations must be true or false/,
    );
  });
});
