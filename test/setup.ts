import '../local/polyfill';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.AWS_REGION = process.env.AWS_REGION ?? 'us-east-1';
// No test may reach AWS: static fake credentials keep the SDK from looking for real ones.
process.env.AWS_ACCESS_KEY_ID = 'AKIDLOCALTEST';
process.env.AWS_SECRET_ACCESS_KEY = 'local-test-secret';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
// The SDK's notice that future versions need Node 22 is about this machine, not the deployed Lambdas (Node 22).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

// The handlers' metrics are EMF lines on stdout: kept out of the test output. The local
// engine records them before this filter sees them (local/engine/metrics.ts).
const writeStdout = process.stdout.write.bind(process.stdout) as (...args: unknown[]) => boolean;
process.stdout.write = ((chunk: unknown, ...rest: unknown[]) =>
  typeof chunk === 'string' && chunk.startsWith('{"_aws":')
    ? true
    : writeStdout(chunk, ...rest)) as typeof process.stdout.write;

// aws-cdk-lib validates every synthesized template against CloudFormation's rules (a
// WebAssembly cfn-lint), about half of each synthesis. It runs once, on the app as `cdk synth`
// builds it, in test/lib/cloudformation-validation.test.ts; the other suites skip it.
process.env.CDK_VALIDATION = process.env.CDK_VALIDATION ?? 'false';

// aws-cdk-lib records a stack trace for every CloudFormation element it creates (its
// creation stack, for error reports) and for every metadata entry, and jest maps each
// stack trace through its source maps: about a tenth of a construct suite's CPU. The
// suites do not read them; `cdk synth` (the CLI) and the package test still record them.
process.env.CDK_CONTEXT_JSON =
  process.env.CDK_CONTEXT_JSON ??
  JSON.stringify({ 'aws:cdk:disable-creation-stack-traces': true, 'aws:cdk:disable-stack-trace': true });

// Node (20) keeps every AsyncLocalStorage that has been used until it is disabled, and each
// one it keeps adds to the cost of every promise created after. jest evaluates the modules
// afresh for each test file, so module-level stores (the emulator's caller, the handlers'
// retry budgets, jest-circus's own test context) piled up in a worker, file after file: a
// workflow suite took twice the CPU late in a worker's life as in a fresh one. Each test
// file disables the stores that the files before it in this worker created.
const STORES = Symbol.for('cdk-account-factory.test.async-local-storages');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const asyncHooks = require('node:async_hooks') as { AsyncLocalStorage: any };
const created: Set<{ disable(): void }> | undefined = asyncHooks.AsyncLocalStorage[STORES];
if (created) {
  for (const store of created) store.disable();
  created.clear();
} else {
  const stores = new Set<{ disable(): void }>();
  const Base = asyncHooks.AsyncLocalStorage;
  const Tracked = class extends Base {
    constructor(...args: unknown[]) {
      super(...args);
      stores.add(this as unknown as { disable(): void });
    }
  };
  Object.defineProperty(Tracked, 'name', { value: Base.name });
  (Tracked as any)[STORES] = stores;
  asyncHooks.AsyncLocalStorage = Tracked;
}
