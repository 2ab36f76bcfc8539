import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';

/** Skips esbuild: template tests do not need the bundles. */
export const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

export function newStack(options: { nag?: boolean } = {}): { app: App; stack: Stack } {
  const app = new App({ context: NO_BUNDLING });
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'Test', { env: { account: '111111111111', region: 'us-east-1' } });
  return { app, stack };
}

export type Json = any;

/**
 * The state machine definition as JSON: references (ARNs of functions, tables)
 * become the string "<ref>".
 */
export function definitionOf(template: Template, logicalIdPrefix?: string): Json {
  const machines = template.findResources('AWS::StepFunctions::StateMachine');
  const ids = Object.keys(machines).filter((id) => !logicalIdPrefix || id.startsWith(logicalIdPrefix));
  if (ids.length !== 1)
    throw new Error(`expected one state machine, found ${Object.keys(machines).join(', ')}`);
  const definition = machines[ids[0]].Properties.DefinitionString;
  if (typeof definition === 'string') return JSON.parse(definition);
  const parts: unknown[] = definition['Fn::Join'][1];
  const text = parts.map((p) => (typeof p === 'string' ? p : '<ref>')).join('');
  return JSON.parse(text);
}

export interface Statement {
  policy: string;
  Action: string[];
  Resource: Json[];
  Condition?: Json;
  Effect: string;
}

/** Every identity-policy statement of the template (IAM::Policy and inline role policies). */
export function identityStatements(template: Template): Statement[] {
  const out: Statement[] = [];
  const add = (policy: string, doc: Json) => {
    for (const s of doc.Statement) {
      out.push({
        policy,
        Effect: s.Effect,
        Action: [s.Action].flat(),
        Resource: [s.Resource].flat(),
        Condition: s.Condition,
      });
    }
  };
  for (const [id, r] of Object.entries(template.findResources('AWS::IAM::Policy')))
    add(id, (r as Json).Properties.PolicyDocument);
  for (const [id, r] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    for (const p of (r as Json).Properties.Policies ?? []) add(id, p.PolicyDocument);
  }
  return out;
}

/** A resource value rendered as a string, references as <LogicalId> / <LogicalId.Attr>. */
export function render(value: Json): string {
  if (typeof value === 'string') return value;
  if (value?.Ref) return `<${value.Ref}>`;
  if (value?.['Fn::GetAtt']) return `<${value['Fn::GetAtt'].join('.')}>`;
  if (value?.['Fn::Join']) return value['Fn::Join'][1].map(render).join(value['Fn::Join'][0]);
  return JSON.stringify(value);
}

/** The function whose CfnFunction carries this handler metadata. */
export function functionOf(template: Template, handler: string): { id: string; props: Json } {
  const fns = template.findResources('AWS::Lambda::Function');
  const found = Object.entries(fns).filter(
    ([, r]) => (r as Json).Metadata?.['cdk-account-factory:handler'] === handler,
  );
  if (found.length !== 1) throw new Error(`expected one function for ${handler}, found ${found.length}`);
  return { id: found[0][0], props: (found[0][1] as Json).Properties };
}

/** The statements of the policies attached to a function's role. */
export function statementsOfFunction(template: Template, handler: string): Statement[] {
  const { props } = functionOf(template, handler);
  const roleId = props.Role['Fn::GetAtt'][0];
  const policies = template.findResources('AWS::IAM::Policy');
  const attached = Object.entries(policies)
    .filter(([, p]) => ((p as Json).Properties.Roles ?? []).some((r: Json) => r.Ref === roleId))
    .map(([id]) => id);
  return identityStatements(template).filter((s) => attached.includes(s.policy));
}

export function actionsOf(statements: Statement[]): string[] {
  return statements.filter((s) => s.Effect === 'Allow').flatMap((s) => s.Action);
}
