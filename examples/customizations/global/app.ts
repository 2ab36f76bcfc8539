import { App } from 'aws-cdk-lib';
import { AccountBaselineStack } from './baseline-stack';

/**
 * Global customizations: run for every account, before its own customizations.
 * The pipeline passes the account and region as context (`-c ACCOUNT_ID=... -c
 * region=...`) and in CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION.
 */
const app = new App();
const account = app.node.tryGetContext('ACCOUNT_ID') ?? process.env.CDK_DEFAULT_ACCOUNT;
const region = app.node.tryGetContext('region') ?? process.env.CDK_DEFAULT_REGION;
if (!account) throw new Error('No account: run with -c ACCOUNT_ID=<12 digits>');

new AccountBaselineStack(app, 'AccountBaseline', {
  env: { account, region },
  minimumPasswordLength: Number(app.node.tryGetContext('minimumPasswordLength') ?? 14),
});
app.synth();
