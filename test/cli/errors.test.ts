import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { run } from '../../cli';
import { explainAwsError } from '../../cli/errors';

/** Errors a user meets against AWS: one line on stderr that says the fix, a stack trace only with --verbose. */

const ROOT = path.join(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

/** The CLI in a child process with no AWS configuration at all (no Region, no credentials, no profile). */
function cliWithout(args: string[], env: NodeJS.ProcessEnv = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  const out = spawnSync(TSX, ['bin/account-factory.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      ...clean,
      AWS_CONFIG_FILE: path.join(ROOT, 'no-such-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(ROOT, 'no-such-aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
    },
  });
  return { status: out.status, stderr: out.stderr };
}

test('no Region: one line naming --region, exit 2', () => {
  const out = cliWithout(['status']);

  expect(out.status).toBe(2);
  expect(out.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(out.stderr).toMatch(/^account-factory: no AWS Region: pass --region/);
});

test('no credentials: one line naming what to set, exit 2; --verbose adds the stack trace', () => {
  const out = cliWithout(['status'], { AWS_REGION: 'eu-west-1' });

  expect(out.status).toBe(2);
  expect(out.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(out.stderr).toMatch(/^account-factory: no AWS credentials: set AWS_PROFILE/);

  const verbose = cliWithout(['--verbose', 'status'], { AWS_REGION: 'eu-west-1' });
  expect(verbose.status).toBe(2);
  expect(verbose.stderr).toMatch(/^account-factory: no AWS credentials/);
  expect(verbose.stderr).toMatch(/\n\s+at /);
});

test.each([
  [Object.assign(new Error('Region is missing'), { name: 'Error' }), /^no AWS Region: pass --region/],
  [
    Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    }),
    /^no AWS credentials/,
  ],
  [
    Object.assign(new Error('The security token included in the request is expired'), {
      name: 'ExpiredToken',
    }),
    /^the AWS credentials have expired/,
  ],
  [
    Object.assign(new Error('User: x is not authorized to perform: dynamodb:Scan'), {
      name: 'AccessDeniedException',
    }),
    /^not allowed: User: x is not authorized/,
  ],
  [
    Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' }),
    /is --region the factory's Region/,
  ],
  [
    Object.assign(new Error('getaddrinfo ENOTFOUND cloudformation.eu-west-1.amazonaws.com'), {
      code: 'ENOTFOUND',
    }),
    /^cannot reach AWS/,
  ],
])('explainAwsError: %p', (err, expected) => {
  expect(explainAwsError(err)).toMatch(expected);
});

test('explainAwsError leaves other errors alone (the CLI points at --verbose for them)', () => {
  expect(explainAwsError(new TypeError('x is undefined'))).toBeUndefined();
  expect(explainAwsError('a string')).toBeUndefined();
});

describe('the factory stack', () => {
  const cfn = mockClient(CloudFormationClient);
  afterEach(() => cfn.reset());

  async function statusAgainst(): Promise<{ status: number; stderr: string }> {
    let stderr = '';
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    try {
      const status = await run([
        'node',
        'account-factory',
        '--region',
        'eu-west-1',
        'status',
        '--stack',
        'Nope',
      ]);
      return { status, stderr };
    } finally {
      spy.mockRestore();
    }
  }

  test('not found: one line naming --stack and --region, exit 2', async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' }));

    expect(await statusAgainst()).toEqual({
      status: 2,
      stderr: 'account-factory: stack Nope does not exist (pass --stack, or --region)\n',
    });
  });

  test('another stack (none of the factory outputs): one line saying so, exit 2', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'Nope',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [{ OutputKey: 'BucketName', OutputValue: 'b' }],
        },
      ],
    });

    expect(await statusAgainst()).toEqual({
      status: 2,
      stderr:
        "account-factory: stack Nope is not an account factory (it has no RequestsTableName output): pass --stack with the factory's stack name\n",
    });
  });
});
