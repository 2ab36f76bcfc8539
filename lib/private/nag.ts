import { Stack, Validations } from 'aws-cdk-lib';
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

/**
 * How cdk-nag names a resource in a finding (`Resource::<this>`): the value
 * resolved in its stack, references flattened to `<LogicalId>` /
 * `<LogicalId.Attribute>`, other intrinsics as JSON. Acknowledgements built from
 * it match whether the stack's environment is concrete or not.
 */
export function nagResource(scope: IConstruct, value: string): string {
  return flatten(Stack.of(scope).resolve(value));
}

function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
  const n = node as Record<string, any>;
  if (n['Fn::Join']) {
    const [delimiter, items] = n['Fn::Join'];
    return (items as unknown[]).map(flatten).join(delimiter);
  }
  if (n['Fn::Sub']) return flatten(n['Fn::Sub']);
  if (n['Fn::GetAtt']) return `<${flatten(n['Fn::GetAtt'][0])}.${flatten(n['Fn::GetAtt'][1])}>`;
  if (n['Fn::ImportValue']) return flatten(n['Fn::ImportValue']);
  if (n.Ref) return `<${flatten(n.Ref)}>`;
  return JSON.stringify(node);
}
