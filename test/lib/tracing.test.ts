import * as fs from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { AccountFactory } from '../../lib/account-factory';
import { HANDLER_METADATA_KEY } from '../../lambda/shared/env';
import { HANDLER } from '../../lib/workflow/step-names';
import { actionsOf, newStack, statementsOfFunction } from './helpers';

/**
 * What the README's "Traces" paragraph says, kept true: X-Ray active tracing on every
 * handler function and both state machines, and nothing added by the handlers (no X-Ray
 * SDK, no Powertools Tracer), so no annotations or SDK subsegments are promised.
 */

const ROOT = path.join(__dirname, '..', '..');
const { stack } = newStack();
new AccountFactory(stack, 'Factory', { driftDetection: {} });
const template = Template.fromStack(stack);

test('every handler function of the factory has X-Ray active tracing, and its role may write traces', () => {
  const handlers = Object.values(template.findResources('AWS::Lambda::Function')).filter(
    (r: any) => r.Metadata?.[HANDLER_METADATA_KEY],
  ) as any[];
  const names = handlers.map((r) => r.Metadata[HANDLER_METADATA_KEY]);
  for (const handler of Object.values(HANDLER)) expect(names).toContain(handler);
  for (const fn of handlers) {
    expect({ handler: fn.Metadata[HANDLER_METADATA_KEY], tracing: fn.Properties.TracingConfig }).toEqual({
      handler: fn.Metadata[HANDLER_METADATA_KEY],
      tracing: { Mode: 'Active' },
    });
  }
  for (const handler of Object.values(HANDLER)) {
    expect(actionsOf(statementsOfFunction(template, handler))).toEqual(
      expect.arrayContaining(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']),
    );
  }
});

test('both state machines (provisioning and re-run) have X-Ray tracing on', () => {
  const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as any[];
  expect(machines).toHaveLength(2);
  for (const m of machines) expect(m.Properties.TracingConfiguration).toEqual({ Enabled: true });
});

/** Every .ts file under a folder. */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

test('the handlers add nothing to the traces: no X-Ray SDK and no Powertools Tracer, in the code or the dependencies', () => {
  const tracer = /aws-xray-sdk|@aws-lambda-powertools\/tracer/;
  const files = sources(path.join(ROOT, 'lambda'));
  expect(files.length).toBeGreaterThan(20);
  expect(files.filter((f) => tracer.test(fs.readFileSync(f, 'utf8')))).toEqual([]);
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const deps = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.devDependencies });
  expect(deps.filter((d) => tracer.test(d))).toEqual([]);
});

test('the README says so', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  expect(readme).toContain(
    '**Traces.** Tracing is X-Ray active tracing at the Lambda and Step Functions level',
  );
  expect(readme).toContain('no X-Ray SDK and no Powertools Tracer');
});
