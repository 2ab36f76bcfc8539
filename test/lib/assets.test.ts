import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { handlerAsset, handlersAssetDir } from '../../lib/private/assets';
import { handlerEntries } from '../../scripts/build-assets';

/**
 * The prebuilt Lambda bundles (built by test/global-setup.ts, as `npm pack` builds
 * them): each one loads in a fresh node process as Lambda loads it, and the bundled
 * Control Tower client signs requests with the SDK's credential chain.
 */

/** Runs a script in a fresh node process with Lambda-like environment; returns its stdout or throws its stderr. */
function node(script: string, env: NodeJS.ProcessEnv = {}): string {
  const out = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'eu-west-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      ...env,
    },
  });
  if (out.status !== 0) throw new Error(`node exited ${out.status}: ${out.stderr}`);
  return out.stdout;
}

test('every handler has a bundle, named as the Lambda handler setting says', () => {
  for (const handler of Object.keys(handlerEntries())) {
    const asset = handlerAsset(handler);
    expect(asset.dir).toBe(handlersAssetDir());
    expect(asset.handler).toBe(`${handler}/index.handler`);
    expect(fs.existsSync(path.join(asset.dir, handler, 'index.js'))).toBe(true);
  }
});

test('a missing bundle fails the synth naming the command that builds it', () => {
  expect(() => handlerAsset('no-such-handler')).toThrow(/no-such-handler is missing .*npm run build:assets/);
});

test('each bundle loads in a fresh node process and exports a handler function', () => {
  const files = Object.keys(handlerEntries()).map((h) => path.join(handlersAssetDir(), h, 'index.js'));
  const out = node(
    `for (const f of ${JSON.stringify(files)}) {
       const m = require(f);
       if (typeof m.handler !== 'function') throw new Error(f + ' exports no handler');
     }
     process.stdout.write('ok');`,
    { AWS_ACCESS_KEY_ID: 'AKIDBUNDLE', AWS_SECRET_ACCESS_KEY: 'bundle' },
  );
  expect(out).toBe('ok');
});

describe('the bundled Control Tower client', () => {
  const vendor = path.join(handlersAssetDir(), 'vendor', 'control-tower-sdk.js');
  /** Sends ListEnabledControls and stops it once signed: prints the Authorization header. */
  const signed = (clientConfig: string) => `
    const { ControlTowerClient, ListEnabledControlsCommand } = require(${JSON.stringify(vendor)});
    const client = new ControlTowerClient(${clientConfig});
    if (client.constructor.name !== 'ControlTowerClient') throw new Error('class name lost: ' + client.constructor.name);
    client.middlewareStack.add(
      (next) => async (args) => { throw Object.assign(new Error('stop'), { authorization: args.request.headers.authorization }); },
      { step: 'finalizeRequest', priority: 'low' },
    );
    client.send(new ListEnabledControlsCommand({ targetIdentifier: 'arn:aws:organizations::1:ou/o-1/ou-1' })).then(
      () => { throw new Error('sent'); },
      (err) => { if (!err.authorization) throw err; process.stdout.write(err.authorization); },
    );`;

  test('signs with the default credential chain (the environment, as in Lambda)', () => {
    const authorization = node(signed('{}'), {
      AWS_ACCESS_KEY_ID: 'AKIDFROMENVIRONMENT',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
    });
    expect(authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDFROMENVIRONMENT\/\d{8}\/eu-west-1\/controltower\//,
    );
  });

  test('signs with explicit credentials (an assumed management role)', () => {
    const authorization = node(
      signed(`{ credentials: { accessKeyId: 'AKIDASSUMED', secretAccessKey: 's', sessionToken: 't' } }`),
    );
    expect(authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDASSUMED\//);
  });
});
