import type { Authorizer } from './authorization';
import type { CommandTable, Env } from './common';
import type { FaultInjector } from './faults';
import type { LandingZoneOptions } from './index';

/**
 * One AWS SDK v3 client the emulator answers for, and the facts of its protocol that
 * name its errors. Every fact here is per service in AWS; each cites its source in
 * docs/aws-behaviour.md.
 */
export interface SdkClient {
  /** The client's class name, as `createClient()` sees it (`'STSClient'`). */
  readonly name: string;
  /**
   * The client's package (`import * as STS from '@aws-sdk/client-sts'`): its command
   * classes, its modeled exceptions and its `<Name>ServiceException` base.
   */
  readonly sdk: Record<string, any>;
  /**
   * The wire protocol's family: `query` (STS, IAM, SNS, and EC2's variant of it) or
   * `json` (JSON and REST-JSON). It names the common errors: an unknown security token is
   * `InvalidClientTokenId` (query) or `UnrecognizedClientException` (json); throttling is
   * `Throttling` or `ThrottlingException` unless `throttleErrors` says otherwise.
   */
  readonly protocol: 'query' | 'json';
  /** The throttling error(s) the service returns, one picked per fault. @default - by protocol */
  readonly throttleErrors?: readonly string[];
  /** The error an authorization failure carries. @default 'AccessDeniedException' */
  readonly accessDeniedError?: string;
  /** Its Step Functions AWS SDK integration (`arn:aws:states:::aws-sdk:<service>:<action>`), if served. */
  readonly stepFunctions?: SdkIntegrationSpec;
}

export interface SdkIntegrationSpec {
  /** The lowercase service name in the Task's Resource (`codepipeline`). */
  readonly service: string;
  /** Prefix of the task's error names: the service name in PascalCase (`CodePipeline`, `Sns`). */
  readonly errorPrefix: string;
  /**
   * The service's API names its members in camelCase (CodePipeline, Control Tower, Support,
   * SFN): Step Functions takes and returns PascalCase and converts every key, at every depth.
   * @default false
   */
  readonly camelCase?: boolean;
}

/** What a service gets when the landing zone creates it. */
export interface ServiceContext {
  readonly env: Env;
  readonly options: LandingZoneOptions;
  readonly faults: FaultInjector;
  /** The landing zone's authorizer; call it when serving, not while being created. */
  authorizer(): Authorizer;
  /** A service listed before this one in EMULATED_SERVICES (local/emulator/services.ts). */
  get<T>(service: abstract new (...args: any[]) => T): T;
}

/** An emulated AWS service: the commands of the client(s) it serves, and its lazy time. */
export interface EmulatedService {
  /** The commands it serves for `clientName`, one of its definition's `clients`. */
  commands(clientName: string): CommandTable;
  /**
   * Applies what emulated time has done since the last call (operations that ended,
   * accounts that closed). Called before every command and every inspection.
   */
  settle?(): void;
}

/** A line of the registry (EMULATED_SERVICES): how to make the service and what it serves. */
export interface ServiceDefinition<S extends EmulatedService = EmulatedService> {
  readonly clients: readonly SdkClient[];
  create(ctx: ServiceContext): S;
}

/** Declares a service (keeps its type for `LandingZone.service()`). */
export function defineService<S extends EmulatedService>(
  definition: ServiceDefinition<S>,
): ServiceDefinition<S> {
  return definition;
}
