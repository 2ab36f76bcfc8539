import { operationName, Principal, serviceName } from './common';
import { awsError, sdkClient } from './services';
import type { Iam, RoleRecord } from './iam-sts';
import { iamActionFor, type ActionCheck, type ArnContext } from './iam-actions';
import {
  authorizationMessage,
  evaluateIdentityPolicies,
  type ContextValue,
  type Decision,
  type PolicyDocument,
} from './iam-policy';

/**
 * Authorizes every call against the caller's identity policies, as IAM does: the
 * synthesized template's roles are deployed into the emulated accounts with their
 * policies, so a permission missing from the template fails here with the error AWS
 * returns, naming the action. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */

/**
 * The AWS managed policies the emulated roles use, as documents. A managed policy not
 * listed here grants nothing (and says so in the denial).
 */
const MANAGED_POLICIES: Record<string, PolicyDocument> = {
  // https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AdministratorAccess.html
  AdministratorAccess: { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
  // https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html
  AWSLambdaBasicExecutionRole: {
    Statement: [
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: '*',
      },
    ],
  },
};

export interface AuthorizerContext {
  readonly iam: Iam;
  readonly managementAccountId: string;
  readonly organizationId: () => string;
}

export class Authorizer {
  /** The state machine that issued a task token (SendTask* are authorized on it); set by the local engine. */
  resolveTaskToken?: (token: string) => string | undefined;

  constructor(
    private readonly ctx: AuthorizerContext,
    /** Principals that act with AdministratorAccess and need no role (the local administrator). */
    private readonly administrators: (p: Principal) => boolean,
  ) {}

  /** The identity policies of a principal's role (its inline and managed policies). */
  policiesOf(principal: Principal): PolicyDocument[] {
    if (this.administrators(principal)) return [MANAGED_POLICIES.AdministratorAccess];
    const role = this.ctx.iam.role(principal.accountId, principal.roleName);
    return role ? documentsOf(role) : [];
  }

  /** Whether the principal's identity policies allow `action` on `resource`. */
  decide(
    principal: Principal,
    action: string,
    resource: string,
    region: string,
    keys: Record<string, ContextValue> = {},
  ): Decision {
    return evaluateIdentityPolicies(this.policiesOf(principal), {
      action,
      resource,
      keys: {
        'aws:PrincipalArn': principal.roleArn,
        'aws:PrincipalAccount': principal.accountId,
        'aws:RequestedRegion': region,
        ...keys,
      },
    });
  }

  /** The first of `actions` (on any resource) the principal may not perform, if any. */
  firstDenied(principal: Principal, actions: readonly string[], region: string): string | undefined {
    return actions.find((a) => this.decide(principal, a, '*', region).effect !== 'Allow');
  }

  /**
   * Authorizes an API call; throws the service's access-denied error, naming the action
   * and resource, when the caller's policies do not allow every check it needs.
   */
  authorize(
    principal: Principal,
    clientName: string,
    commandName: string,
    input: unknown,
    region: string,
  ): void {
    if (this.administrators(principal)) return;
    const service = serviceName(clientName);
    const operation = operationName(commandName);
    const arnContext: ArnContext = {
      partition: 'aws',
      region,
      accountId: principal.accountId,
      organizationId: this.ctx.organizationId(),
      managementAccountId: this.ctx.managementAccountId,
      resolveRoleArn: (name) => this.ctx.iam.role(principal.accountId, name)?.arn,
      resolveTaskToken: (token) => this.resolveTaskToken?.(token),
    };
    const mapping = iamActionFor(service, operation, (input ?? {}) as Record<string, any>, arnContext);
    if (mapping.authorizationNotRequired) return;
    const checks: (ActionCheck & { keys?: Record<string, ContextValue> })[] = [
      mapping,
      ...(mapping.additional ?? []),
      ...passRoleChecks(service, operation, input),
    ];
    for (const check of checks) {
      for (const resource of check.resources) {
        const decision = this.decide(principal, check.action, resource, region, check.keys);
        if (decision.effect !== 'Allow') {
          throw awsError(
            clientName,
            sdkClient(clientName)?.accessDeniedError ?? 'AccessDeniedException',
            authorizationMessage(principal.arn, check.action, resource, decision),
          );
        }
      }
    }
  }
}

function documentsOf(role: RoleRecord): PolicyDocument[] {
  const managed = [...role.attached.values()].flatMap((name) =>
    MANAGED_POLICIES[name] ? [MANAGED_POLICIES[name]] : [],
  );
  return [...(role.inline as PolicyDocument[]), ...managed];
}

/**
 * Calls that hand a role to a service also need iam:PassRole on that role, with
 * iam:PassedToService set to the service.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html
 */
function passRoleChecks(
  service: string,
  operation: string,
  input: unknown,
): (ActionCheck & { keys: Record<string, ContextValue> })[] {
  const i = (input ?? {}) as Record<string, any>;
  if (service === 'CodePipeline' && (operation === 'CreatePipeline' || operation === 'UpdatePipeline')) {
    const roleArn = i.pipeline?.roleArn;
    if (typeof roleArn !== 'string') return [];
    return [
      {
        action: 'iam:PassRole',
        resources: [roleArn],
        keys: { 'iam:PassedToService': 'codepipeline.amazonaws.com' },
      },
    ];
  }
  return [];
}
