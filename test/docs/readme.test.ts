import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

/** The README's library example must run as pasted (with the package name pointing at lib/). */
const README = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

test('the README library example builds a factory and an account request', () => {
  const block = /## Use it as a library\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(README);
  expect(block).not.toBeNull();
  const source = block![1].replace(
    /from 'cdk-account-factory'/g,
    `from '${path.join(__dirname, '..', '..', 'lib')}'`,
  );
  const file = path.join(__dirname, '.readme-example.generated.ts');
  fs.writeFileSync(file, `${source}\nexport { app, stack };\n`);
  const context = process.env.CDK_CONTEXT_JSON;
  // The example's App reads its context from here: skip bundling the handlers, not needed to check the template.
  process.env.CDK_CONTEXT_JSON = JSON.stringify({ 'aws:cdk:bundling-stacks': [] });
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { stack } = require(file) as { stack: Stack };
    const template = Template.fromStack(stack);
    expect(Object.keys(template.findResources('AWS::StepFunctions::StateMachine')).length).toBeGreaterThan(0);
    const requests = Object.values(template.findResources('Custom::AccountRequest'));
    expect(requests.filter((r) => JSON.stringify(r).includes('sandbox-alice@example.com'))).toHaveLength(1);
  } finally {
    if (context === undefined) delete process.env.CDK_CONTEXT_JSON;
    else process.env.CDK_CONTEXT_JSON = context;
    fs.rmSync(file, { force: true });
  }
});
