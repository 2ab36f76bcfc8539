import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '../../lambda/shared/env';
import {
  StepContext,
  StepDescriptor,
  StepHandler,
  StepPermission,
  WORKFLOW_STEPS,
  WorkflowFunctions,
} from '../workflow/steps';
import { assertManagementRoleGrants } from '../control-tower-access';
import { grantTableRead, grantTableReadWrite, grantTopicPublish } from './grants';
import { HandlerFunction } from './handler-function';
import { acknowledge, nagResource } from './nag';

export interface StepFunctionsProps {
  /** What every step's permissions may refer to. */
  readonly context: StepContext;
  /** The environment every step gets (tables, topics, names, the customizations settings). */
  readonly environment: Record<string, string>;
  /** The Control Tower home region, for the steps that act in the management account. */
  readonly homeRegion: string;
  /** The IAM path of the roles of the steps that act in the management account. */
  readonly managementRolePath: string;
  readonly logRetention?: logs.RetentionDays;
  readonly encryptionKey?: kms.IKey;
}

/**
 * The functions of the workflow steps (`WORKFLOW_STEPS`): one HandlerFunction per
 * descriptor, created directly in `scope` (id: the handler name in PascalCase) and
 * granted what the descriptor says.
 */
export class StepFunctions implements WorkflowFunctions {
  private readonly byHandler = new Map<string, HandlerFunction>();

  constructor(
    private readonly scope: Construct,
    props: StepFunctionsProps,
  ) {
    for (const step of WORKFLOW_STEPS as readonly StepDescriptor[]) {
      const handlerFunction = this.create(step, props);
      this.byHandler.set(step.handler, handlerFunction);
    }
    for (const step of WORKFLOW_STEPS as readonly StepDescriptor[]) {
      this.grant(this.handlerFunction(step.handler as StepHandler), step.permissions(props.context), props);
    }
  }

  public fn(handler: StepHandler): lambda.IFunction {
    return this.handlerFunction(handler).function;
  }

  public handlerFunction(handler: StepHandler): HandlerFunction {
    const found = this.byHandler.get(handler);
    if (!found) throw new Error(`No workflow step has the handler ${handler}`);
    return found;
  }

  /** Every step's function, by handler name. */
  public functionsByHandler(): Record<StepHandler, lambda.IFunction> {
    const out: Partial<Record<StepHandler, lambda.IFunction>> = {};
    for (const [handler, f] of this.byHandler) out[handler as StepHandler] = f.function;
    return out as Record<StepHandler, lambda.IFunction>;
  }

  /** Every step's function, in table order. */
  public all(): HandlerFunction[] {
    return [...this.byHandler.values()];
  }

  /** The roles the execution role in each account trusts (`assumesExecutionRole`). */
  public executionRoleUsers(): iam.IRole[] {
    return (WORKFLOW_STEPS as readonly StepDescriptor[])
      .filter((s) => s.assumesExecutionRole)
      .map((s) => this.handlerFunction(s.handler as StepHandler).role);
  }

  private create(step: StepDescriptor, props: StepFunctionsProps): HandlerFunction {
    const inManagement = step.actsIn === 'management';
    const environment: Record<string, string> = { ...props.environment };
    if (inManagement) {
      environment[ENV.MANAGEMENT_ROLE_ARN] = props.context.managementRole.roleArn;
      environment[ENV.CONTROL_TOWER_HOME_REGION] = props.homeRegion;
    }
    Object.assign(environment, step.environment?.(props.context));
    return new HandlerFunction(this.scope, pascal(step.handler), {
      logRetention: props.logRetention,
      encryptionKey: props.encryptionKey,
      handler: step.handler,
      description: step.description,
      timeout: step.timeout,
      environment,
      rolePath: inManagement ? props.managementRolePath : undefined,
    });
  }

  private grant(
    fn: HandlerFunction,
    permissions: readonly StepPermission[],
    props: StepFunctionsProps,
  ): void {
    const { context } = props;
    for (const permission of permissions) {
      switch (permission.kind) {
        case 'management':
          assertManagementRoleGrants(fn.handlerName, permission.actions);
          fn.role.addToPrincipalPolicy(
            new iam.PolicyStatement({
              actions: ['sts:AssumeRole'],
              resources: [context.managementRole.roleArn],
            }),
          );
          break;
        case 'table':
          if (permission.access === 'read') grantTableRead(permission.table, fn.role);
          else grantTableReadWrite(permission.table, fn.role);
          break;
        case 'publish':
          grantTopicPublish(permission.topic, fn.role);
          break;
        case 'statement':
          fn.role.addToPrincipalPolicy(permission.statement);
          if (permission.wildcardReason) {
            acknowledge(
              fn.role,
              'AwsSolutions-IAM5',
              permission.wildcardReason,
              permission.statement.resources.map((r) => `Resource::${nagResource(this.scope, r)}`),
            );
          }
          break;
      }
    }
    // Table grants include the GSI (`<table>/index/*`).
    if (permissions.some((p) => p.kind === 'table' && p.table === context.metadataTable)) {
      acknowledge(fn.role, 'AwsSolutions-IAM5', 'Queries the metadata table by email (its GSI)', [
        `Resource::${nagResource(this.scope, `${context.metadataTable.tableArn}/index/*`)}`,
      ]);
    }
  }
}

/** `create-execution-role` -> `CreateExecutionRole`. */
export function pascal(name: string): string {
  return name
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}
