import { Stack, StackProps } from 'aws-cdk-lib';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

export interface AccountBaselineStackProps extends StackProps {
  /** 8 to 128. */
  readonly minimumPasswordLength: number;
}

/**
 * What every account gets: an IAM password policy and S3 Block Public Access
 * for the whole account. Neither has a CloudFormation resource type, so both
 * are AWS API calls made by custom resources, undone when the stack is deleted.
 */
export class AccountBaselineStack extends Stack {
  constructor(scope: Construct, id: string, props: AccountBaselineStackProps) {
    super(scope, id, { description: 'Account baseline: password policy, S3 Block Public Access', ...props });
    const length = props.minimumPasswordLength;
    if (!Number.isInteger(length) || length < 8 || length > 128) {
      throw new Error(`minimumPasswordLength must be an integer from 8 to 128, got ${length}`);
    }

    const passwordPolicy = {
      MinimumPasswordLength: length,
      RequireSymbols: true,
      RequireNumbers: true,
      RequireUppercaseCharacters: true,
      RequireLowercaseCharacters: true,
      AllowUsersToChangePassword: true,
      MaxPasswordAge: 90,
      PasswordReusePrevention: 24,
    };
    const setPasswordPolicy: cr.AwsSdkCall = {
      service: 'IAM',
      action: 'updateAccountPasswordPolicy',
      parameters: passwordPolicy,
      physicalResourceId: cr.PhysicalResourceId.of(`password-policy-${this.account}`),
    };
    new cr.AwsCustomResource(this, 'PasswordPolicy', {
      onCreate: setPasswordPolicy,
      onUpdate: setPasswordPolicy,
      onDelete: { service: 'IAM', action: 'deleteAccountPasswordPolicy' },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE }),
      installLatestAwsSdk: false,
    });

    const blockPublicAccess: cr.AwsSdkCall = {
      service: 'S3Control',
      action: 'putPublicAccessBlock',
      parameters: {
        AccountId: this.account,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          IgnorePublicAcls: true,
          BlockPublicPolicy: true,
          RestrictPublicBuckets: true,
        },
      },
      physicalResourceId: cr.PhysicalResourceId.of(`public-access-block-${this.account}`),
    };
    new cr.AwsCustomResource(this, 'S3BlockPublicAccess', {
      onCreate: blockPublicAccess,
      onUpdate: blockPublicAccess,
      onDelete: {
        service: 'S3Control',
        action: 'deletePublicAccessBlock',
        parameters: { AccountId: this.account },
      },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE }),
      installLatestAwsSdk: false,
    });
  }
}
