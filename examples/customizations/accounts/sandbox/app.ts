import { App, Stack, StackProps } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import { Construct } from 'constructs';

/**
 * Customizations of the accounts whose request says `customizationsName: sandbox`:
 * a monthly cost budget that emails the platform team at 80% (actual) and 100%
 * (forecast) of its limit.
 */
export interface SandboxStackProps extends StackProps {
  readonly monthlyBudgetUsd: number;
  readonly alertEmail: string;
}

export class SandboxStack extends Stack {
  constructor(scope: Construct, id: string, props: SandboxStackProps) {
    super(scope, id, { description: 'Sandbox account: monthly budget', ...props });
    if (!(props.monthlyBudgetUsd > 0)) {
      throw new Error(`monthlyBudgetUsd must be a positive amount, got ${props.monthlyBudgetUsd}`);
    }
    const alert = (notificationType: 'ACTUAL' | 'FORECASTED', threshold: number) => ({
      notification: {
        notificationType,
        comparisonOperator: 'GREATER_THAN',
        threshold,
        thresholdType: 'PERCENTAGE',
      },
      subscribers: [{ subscriptionType: 'EMAIL', address: props.alertEmail }],
    });
    new budgets.CfnBudget(this, 'MonthlyBudget', {
      budget: {
        budgetName: `sandbox-${this.account}-monthly`,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: props.monthlyBudgetUsd, unit: 'USD' },
      },
      notificationsWithSubscribers: [alert('ACTUAL', 80), alert('FORECASTED', 100)],
    });
  }
}

const app = new App();
const account = app.node.tryGetContext('ACCOUNT_ID') ?? process.env.CDK_DEFAULT_ACCOUNT;
const region = app.node.tryGetContext('region') ?? process.env.CDK_DEFAULT_REGION;
if (!account) throw new Error('No account: run with -c ACCOUNT_ID=<12 digits>');
new SandboxStack(app, 'SandboxCustomizations', {
  env: { account, region },
  monthlyBudgetUsd: Number(app.node.tryGetContext('monthlyBudgetUsd')),
  alertEmail: String(app.node.tryGetContext('budgetAlertEmail')),
});
app.synth();
