import { awsError, Rng } from './common';

/**
 * Faults the landing zone can inject, all off by default. Settable at construction and
 * later (`LandingZone.setFaults`). Every injected fault is counted.
 */
export interface ThrottleFault {
  /** Fraction of calls (0..1) that fail with a throttling error before any effect. */
  readonly rate: number;
  /**
   * Error names to throw, one picked per fault.
   * @default - what each service returns (DEFAULT_THROTTLE_ERRORS)
   */
  readonly errors?: readonly string[];
  /** Client names (e.g. 'OrganizationsClient') to throttle. @default - every emulated service */
  readonly services?: readonly string[];
}

export interface ExternalOperationsFault {
  /** Control Tower operations started outside the factory (e.g. from the console). */
  readonly count: number;
  /** How long each holds its slot, in emulated seconds. */
  readonly seconds: number;
}

export interface FaultOptions {
  readonly throttle?: ThrottleFault;
  /** Account emails whose Account Factory operation ends FAILED (no account is created). */
  readonly failProvisioning?: readonly string[];
  /** Occupies Control Tower operation slots from the moment it is set. */
  readonly externalOperations?: ExternalOperationsFault;
}

export interface FaultStats {
  total: number;
  /** Per kind: 'throttle:<Client>.<Command>', 'failProvisioning', 'externalOperations'. */
  byKind: Record<string, number>;
}

/**
 * The throttling error each service really returns (the error code, which the SDK v3
 * client turns into `error.name`). Services whose model declares no throttling shape
 * return the protocol's common error: `ThrottlingException` for the JSON protocols,
 * `Throttling` for the query protocol (IAM, STS).
 * - Organizations: TooManyRequestsException, and ConcurrentModificationException when
 *   another request changes the same entity:
 *   https://docs.aws.amazon.com/organizations/latest/APIReference/CommonErrors.html and
 *   https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html
 * - Control Tower: ThrottlingException (HTTP 429):
 *   https://docs.aws.amazon.com/controltower/latest/APIReference/CommonErrors.html
 * - Service Catalog, CodePipeline, Support, CloudTrail (JSON protocol): ThrottlingException:
 *   https://docs.aws.amazon.com/servicecatalog/latest/dg/CommonErrors.html,
 *   https://docs.aws.amazon.com/codepipeline/latest/APIReference/CommonErrors.html
 * - IAM and STS (query protocol): Throttling:
 *   https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html,
 *   https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html
 * - EC2: RequestLimitExceeded:
 *   https://docs.aws.amazon.com/AWSEC2/latest/APIReference/throttling.html
 * - SNS: ThrottledException (and Throttling, the query protocol's common error):
 *   https://docs.aws.amazon.com/sns/latest/api/API_Publish.html#API_Publish_Errors
 * - Step Functions (JSON protocol): ThrottlingException:
 *   https://docs.aws.amazon.com/step-functions/latest/apireference/CommonErrors.html
 */
export const DEFAULT_THROTTLE_ERRORS: Record<string, readonly string[]> = {
  OrganizationsClient: [
    'TooManyRequestsException',
    'TooManyRequestsException',
    'ConcurrentModificationException',
  ],
  ControlTowerClient: ['ThrottlingException'],
  ServiceCatalogClient: ['ThrottlingException'],
  CodePipelineClient: ['ThrottlingException'],
  IAMClient: ['Throttling'],
  STSClient: ['Throttling'],
  EC2Client: ['RequestLimitExceeded'],
  SNSClient: ['ThrottledException', 'Throttling'],
  SupportClient: ['ThrottlingException'],
  CloudTrailClient: ['ThrottlingException'],
  SFNClient: ['ThrottlingException'],
};

export class FaultInjector {
  private options: FaultOptions = {};
  private readonly stats: FaultStats = { total: 0, byKind: {} };

  constructor(
    private readonly rng: Rng,
    options: FaultOptions = {},
  ) {
    this.set(options);
  }

  set(options: FaultOptions): void {
    const rate = options.throttle?.rate;
    if (rate !== undefined && !(rate >= 0 && rate <= 1)) {
      throw new Error(`faults.throttle.rate must be between 0 and 1, got ${rate}`);
    }
    this.options = options;
  }

  get current(): FaultOptions {
    return this.options;
  }

  /**
   * Decides whether this call is throttled. `builtIn` says whether the emulator serves
   * the client itself (services registered by others are throttled only when named).
   */
  throttle(clientName: string, commandName: string, builtIn: boolean): Error | undefined {
    const t = this.options.throttle;
    if (!t || t.rate <= 0) return undefined;
    const eligible = t.services ? t.services.includes(clientName) : builtIn;
    if (!eligible) return undefined;
    if (this.rng.next() >= t.rate) return undefined;
    const names = t.errors?.length
      ? t.errors
      : (DEFAULT_THROTTLE_ERRORS[clientName] ?? ['ThrottlingException']);
    const name = this.rng.pick(names);
    this.count(`throttle:${clientName.replace(/Client$/, '')}.${commandName.replace(/Command$/, '')}`);
    return awsError(clientName, name, 'Rate exceeded');
  }

  failsProvisioning(email: string): boolean {
    const hit = (this.options.failProvisioning ?? []).some((e) => e.toLowerCase() === email.toLowerCase());
    if (hit) this.count('failProvisioning');
    return hit;
  }

  count(kind: string, n = 1): void {
    this.stats.total += n;
    this.stats.byKind[kind] = (this.stats.byKind[kind] ?? 0) + n;
  }

  snapshot(): FaultStats {
    return { total: this.stats.total, byKind: { ...this.stats.byKind } };
  }
}
