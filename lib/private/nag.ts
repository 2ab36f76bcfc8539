import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledges a cdk-nag finding on one construct (and what it contains). With
 * `appliesTo`, only those findings of the rule are acknowledged (e.g.
 * `Resource::*` for AwsSolutions-IAM5), so any other finding still fails.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string, appliesTo?: string[]): void {
  if (appliesTo && appliesTo.length > 0) {
    Validations.of(scope).acknowledge(...appliesTo.map((finding) => ({ id: `${id}[${finding}]`, reason })));
  } else {
    Validations.of(scope).acknowledge({ id, reason });
  }
}
