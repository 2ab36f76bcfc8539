import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { STSClient } from '@aws-sdk/client-sts';
import { Template } from 'aws-cdk-lib/assertions';
import { AccountFactory } from '../../lib/account-factory';
import { handlersAssetDir } from '../../lib/private/assets';
import { createClient } from '../../lambda/shared/clients';
import { HANDLER_METADATA_KEY } from '../../lambda/shared/env';
import { beginInvocation, createLogger } from '../../lambda/shared/logger';
import {
  handlerTracer,
  INVOCATION_SUBSEGMENT,
  resetHandlerTracer,
  tracingWanted,
} from '../../lambda/shared/tracer';
import { HANDLER } from '../../lib/workflow/step-names';
import { actionsOf, newStack, statementsOfFunction } from './helpers';

/**
 * What the README's "Traces" paragraph says, kept true: X-Ray active tracing on every
 * handler function and both state machines; in Lambda, the handlers' one Powertools
 * Tracer (lambda/shared/tracer.ts) captures every SDK client and annotates each
 * invocation with the request, the account and the handler; outside Lambda it is not
 * loaded; the published package does not depend on it (the bundles carry it).
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

/** The middleware names of an SDK client (the X-Ray SDK's is XRaySDKInstrumentation). */
function middlewareOf(client: { middlewareStack: { identify(): string[] } }): string[] {
  return client.middlewareStack.identify();
}

const XRAY_MIDDLEWARE = /^XRaySDKInstrumentation/;

describe("the handlers' tracer", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of [
      'AWS_EXECUTION_ENV',
      'POWERTOOLS_TRACE_ENABLED',
      'AWS_SAM_LOCAL',
      'POWERTOOLS_SERVICE_NAME',
    ]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    resetHandlerTracer();
  });

  test('is on in a Lambda execution environment only, and off there with POWERTOOLS_TRACE_ENABLED=false or under SAM local', () => {
    const lambda = { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' };
    expect(tracingWanted({})).toBe(false);
    expect(tracingWanted(lambda)).toBe(true);
    expect(tracingWanted({ ...lambda, POWERTOOLS_TRACE_ENABLED: 'true' })).toBe(true);
    expect(tracingWanted({ ...lambda, POWERTOOLS_TRACE_ENABLED: 'FALSE' })).toBe(false);
    expect(tracingWanted({ ...lambda, AWS_SAM_LOCAL: 'true' })).toBe(false);
    expect(tracingWanted({ AWS_EXECUTION_ENV: 'AWS_Lambda_amplify-mock' })).toBe(false);
  });

  test('outside Lambda (tests, the local engine) there is no tracer and createClient returns the client uncaptured', () => {
    delete process.env.AWS_EXECUTION_ENV;
    resetHandlerTracer();
    expect(handlerTracer()).toBeUndefined();
    expect(
      middlewareOf(createClient(STSClient, { region: 'eu-west-1' })).filter((m) => XRAY_MIDDLEWARE.test(m)),
    ).toEqual([]);
  });

  test('with tracing on, createClient returns a captured client', () => {
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';
    resetHandlerTracer();
    expect(handlerTracer()?.isTracingEnabled()).toBe(true);
    const client = createClient(STSClient, { region: 'eu-west-1' });
    expect(middlewareOf(client).filter((m) => XRAY_MIDDLEWARE.test(m))).toHaveLength(1);
  });

  test('with tracing on, beginInvocation annotates a subsegment of the current segment with the request, the account and the handler', () => {
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';
    process.env.POWERTOOLS_SERVICE_NAME = 'custom-service';
    resetHandlerTracer();
    const tracer = handlerTracer()!;
    // The X-Ray SDK beneath the tracer: a segment standing in for the function's, in a context of its own.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const xray = require('aws-xray-sdk-core') as typeof import('aws-xray-sdk-core');
    const segment = new xray.Segment('store-metadata');
    const logger = createLogger('store-metadata');
    xray.getNamespace().run(() => {
      tracer.setSegment(segment);
      beginInvocation(
        logger,
        { state: { requestId: 'req-alice', account: { accountId: '111111111111' } } },
        undefined,
      );
      // The invocation's segment is current again afterwards: the SDK calls that follow hang off it.
      expect(tracer.getSegment()).toBe(segment);
    });
    const subsegments = (segment.subsegments ?? []) as unknown as {
      name: string;
      annotations?: object;
      isClosed(): boolean;
    }[];
    expect(subsegments.map((s) => s.name)).toEqual([INVOCATION_SUBSEGMENT]);
    expect(subsegments[0].annotations).toEqual(
      expect.objectContaining({
        handler: 'store-metadata',
        Service: 'custom-service',
        requestId: 'req-alice',
        accountId: '111111111111',
      }),
    );
    expect(subsegments[0].isClosed()).toBe(true);
  });

  test('with tracing off, beginInvocation adds nothing to a segment', () => {
    delete process.env.AWS_EXECUTION_ENV;
    resetHandlerTracer();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const xray = require('aws-xray-sdk-core') as typeof import('aws-xray-sdk-core');
    const segment = new xray.Segment('store-metadata');
    xray.getNamespace().run(() => {
      xray.setSegment(segment);
      beginInvocation(createLogger('store-metadata'), { requestId: 'req-alice' }, undefined);
    });
    expect(segment.subsegments ?? []).toEqual([]);
  });
});

/**
 * Runs a bundled handler in a fresh node process, as Lambda runs it: a local X-Ray daemon
 * (UDP) collects what the process sends, and a local Organizations endpoint answers every
 * call with AccountNotFoundException. Returns the error the handler failed with, the
 * segment documents received, and whether the tracer's bundle was loaded.
 */
function runBundledHandler(env: NodeJS.ProcessEnv): {
  error: string;
  received: {
    name: string;
    annotations?: Record<string, unknown>;
    aws?: { operation?: string };
    trace_id?: string;
  }[];
  tracerLoaded: boolean;
} {
  const bundle = path.join(handlersAssetDir(), 'fetch-account-id', 'index.js');
  const script = `
    const dgram = require('node:dgram');
    const http = require('node:http');
    const received = [];
    const daemon = dgram.createSocket('udp4');
    daemon.on('message', (m) => received.push(JSON.parse(m.toString().split('\\n')[1])));
    daemon.bind(0, '127.0.0.1', () => {
      const api = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'req-1' });
          res.end(JSON.stringify({ __type: 'AccountNotFoundException', Message: 'no such account' }));
        });
      });
      api.listen(0, '127.0.0.1', async () => {
        process.env.AWS_XRAY_DAEMON_ADDRESS = '127.0.0.1:' + daemon.address().port;
        process.env.AWS_ENDPOINT_URL_ORGANIZATIONS = 'http://127.0.0.1:' + api.address().port;
        const { handler } = require(${JSON.stringify(bundle)});
        const event = { state: { validation: { requestId: 'req-alice', accountId: '111111111111',
          request: { accountEmail: 'alice@example.com' } } } };
        const error = await handler(event, { getRemainingTimeInMillis: () => 60000 }).then(() => 'none', (e) => e.name);
        const tracerLoaded = Object.keys(require.cache).some((f) => f.endsWith('powertools-tracer.js'));
        // UDP to localhost is delivered at once; one more turn of the loop reads it.
        setTimeout(() => { process.stdout.write(JSON.stringify({ error, received, tracerLoaded })); process.exit(0); }, 200);
      });
    });`;
  const out = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDTRACE',
      AWS_SECRET_ACCESS_KEY: 'trace',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_SERVICE_NAME: 'fetch-account-id',
      ...env,
    },
  });
  if (out.status !== 0) throw new Error(`node exited ${out.status}: ${out.stderr}`);
  return JSON.parse(out.stdout);
}

/** What Lambda sets in a function with active tracing (the trace id is the X-Ray documentation's example). */
const LAMBDA_ENV = {
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  LAMBDA_TASK_ROOT: '/var/task',
  _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
};

describe('a bundled handler', () => {
  test('in Lambda with tracing on, sends its annotated invocation and each AWS call (with its error) to the X-Ray daemon', () => {
    const { error, received, tracerLoaded } = runBundledHandler(LAMBDA_ENV);
    expect(error).toBe('AccountNotFound');
    expect(tracerLoaded).toBe(true);
    const invocation = received.find((d) => d.name === INVOCATION_SUBSEGMENT);
    expect(invocation?.annotations).toEqual({
      ColdStart: true,
      Service: 'fetch-account-id',
      handler: 'fetch-account-id',
      requestId: 'req-alice',
      accountId: '111111111111',
    });
    expect(received.find((d) => d.name === 'Organizations')).toEqual(
      expect.objectContaining({
        aws: expect.objectContaining({ operation: 'DescribeAccount' }),
        trace_id: '1-5759e988-bd862e3fe1be46a994272793',
        fault: true,
      }),
    );
  });

  test('with POWERTOOLS_TRACE_ENABLED=false, or outside Lambda, sends nothing and does not load the tracer', () => {
    for (const env of [{ ...LAMBDA_ENV, POWERTOOLS_TRACE_ENABLED: 'false' }, {}]) {
      const { error, received, tracerLoaded } = runBundledHandler(env);
      expect({ error, received, tracerLoaded }).toEqual({
        error: 'AccountNotFound',
        received: [],
        tracerLoaded: false,
      });
    }
  });
});

/** Every .ts file under a folder. */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

test('one tracer: only lambda/shared/tracer.ts loads the Powertools Tracer, and no code uses the X-Ray SDK itself', () => {
  const files = [
    ...sources(path.join(ROOT, 'lambda')),
    ...sources(path.join(ROOT, 'lib')),
    ...sources(path.join(ROOT, 'cli')),
  ];
  expect(files.length).toBeGreaterThan(20);
  const using = (re: RegExp) =>
    files.filter((f) => re.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(ROOT, f));
  expect(using(/@aws-lambda-powertools\/tracer/)).toEqual([path.join('lambda', 'shared', 'tracer.ts')]);
  expect(using(/aws-xray-sdk/)).toEqual([]);
});

test("the package does not depend on the tracer: it is a devDependency, bundled into the handlers' vendor/", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  expect(
    Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies }).filter((d) => /tracer|xray/.test(d)),
  ).toEqual([]);
  expect(pkg.devDependencies['@aws-lambda-powertools/tracer']).toBe(
    pkg.dependencies['@aws-lambda-powertools/logger'],
  );
  expect(fs.existsSync(path.join(handlersAssetDir(), 'vendor', 'powertools-tracer.js'))).toBe(true);
});

test('the README says so', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  expect(readme).toContain(
    '**Traces.** Tracing is X-Ray active tracing at the Lambda and Step Functions level',
  );
  expect(readme).toContain('the Powertools Tracer');
  expect(readme).toContain(`\`${INVOCATION_SUBSEGMENT}\``);
});
