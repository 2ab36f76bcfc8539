import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { createApp } from '../../bin/create-app';
import { localAppConfig } from '../../local/engine/synth';
import { NO_BUNDLING } from './helpers';

/**
 * aws-cdk-lib checks every synthesized template against CloudFormation's rules (its
 * built-in "CloudFormation Validate" plugin). The other suites switch it off to halve
 * their synthesis time (test/setup.ts); here it runs on both topologies of the app as
 * `cdk synth` builds it, with findings made errors.
 */

const STRICT = { '@aws-cdk/core:validateAgainstDefaultRules': true };

interface ValidationReport {
  pluginReports: {
    pluginName: string;
    conclusion: string;
    violations: { ruleName: string; description: string }[];
  }[];
}

function withValidation<T>(fn: () => T): T {
  const saved = process.env.CDK_VALIDATION;
  delete process.env.CDK_VALIDATION;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.CDK_VALIDATION;
    else process.env.CDK_VALIDATION = saved;
  }
}

function report(outdir: string): ValidationReport {
  return JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as ValidationReport;
}

test.each(['delegated', 'management'] as const)(
  'the %s topology synthesizes with no CloudFormation validation finding',
  (topology) => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `cfn-validate-${topology}-`));
    try {
      const { app } = createApp({
        config: localAppConfig(topology),
        context: { ...NO_BUNDLING, ...STRICT },
        outdir,
      });
      withValidation(() => app.synth());
      const plugins = report(outdir).pluginReports;
      expect(plugins.map((p) => p.pluginName)).toContain('CloudFormation Validate');
      for (const p of plugins)
        expect([p.pluginName, p.conclusion, p.violations]).toEqual([p.pluginName, 'success', []]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  },
);

test('the check is live: a template CloudFormation would reject fails synthesis', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-validate-bad-'));
  try {
    const app = new App({ outdir, context: STRICT });
    const stack = new Stack(app, 'Bad');
    new CfnResource(stack, 'Topic', { type: 'AWS::SNS::Topic', properties: { NoSuchProperty: 'x' } });
    expect(() => withValidation(() => app.synth())).toThrow(/NoSuchProperty/);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
