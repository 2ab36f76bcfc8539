import type { ScaledClock } from './clock';
import type { SdkClient } from './service';

/** Who makes a call: resolved from the credentials the client used. */
export interface Principal {
  readonly accountId: string;
  readonly roleName: string;
  readonly sessionName: string;
  /** `arn:aws:iam::<account>:role/<name>` */
  readonly roleArn: string;
  /** `arn:aws:sts::<account>:assumed-role/<name>/<session>` */
  readonly arn: string;
}

export function principalOf(
  accountId: string,
  roleName: string,
  sessionName: string,
  rolePath = '/',
): Principal {
  return {
    accountId,
    roleName,
    sessionName,
    // An IAM role's ARN carries its path; the session ARN does not.
    roleArn: `arn:aws:iam::${accountId}:role${rolePath}${roleName}`,
    arn: `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`,
  };
}

/** The principal a role's ambient credentials act as (a Lambda function's or a state machine's role). */
export function principalOfRole(roleArn: string, sessionName: string): Principal {
  const m = /^arn:[\w-]+:iam::(\d{12}):role(\/(?:.*\/)?)([\w+=,.@-]+)$/.exec(roleArn);
  if (!m) throw new Error(`Not an IAM role ARN: ${roleArn}`);
  return principalOf(m[1], m[3], sessionName.slice(0, 64), m[2]);
}

export interface CallContext {
  readonly principal: Principal;
  /** The region the client resolved. */
  readonly region: string;
  readonly clientName: string;
  readonly commandName: string;
}

/** Serves one command: input as the SDK types it, output without `$metadata`. */
// `never` input: any typed handler `(input: XCommandInput, ctx) => ...` fits the table.
export type CommandHandler = (input: never, ctx: CallContext) => object | Promise<object>;
export type CommandTable = Record<string, CommandHandler>;

/** Output of a command as the emulator returns it (the hook adds `$metadata`). */
export type Out<T> = Omit<T, '$metadata'>;

/** Everything the services share. */
export interface Env {
  readonly clock: ScaledClock;
  readonly rng: Rng;
  readonly managementAccountId: string;
  /** The Control Tower home region: Account Factory's portfolio and product live there only. */
  readonly homeRegion: string;
  readonly regions: readonly string[];
  readonly pageSize: number;
}

// ---------------------------------------------------------------------------------
// Seeded randomness: every id and every fault decision comes from here.

/** mulberry32: small, fast, good enough for ids and fault sampling. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An independent stream for one purpose, so that e.g. fault sampling does not shift ids. */
  fork(label: string): Rng {
    let h = this.state ^ 0x9e3779b9;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
    return new Rng(h >>> 0);
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  chars(alphabet: string, length: number): string {
    let s = '';
    for (let i = 0; i < length; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }

  hex(length: number): string {
    return this.chars('0123456789abcdef', length);
  }

  lowerAlnum(length: number): string {
    return this.chars('abcdefghijklmnopqrstuvwxyz0123456789', length);
  }

  upperAlnum(length: number): string {
    return this.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', length);
  }

  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

// ---------------------------------------------------------------------------------
// Errors, shaped as the SDK deserializers shape them.

let requestCounter = 0;

export function requestId(): string {
  requestCounter += 1;
  const n = requestCounter.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${n}`;
}

export function metadata(httpStatusCode: number): {
  httpStatusCode: number;
  requestId: string;
  attempts: number;
  totalRetryDelay: number;
} {
  return { httpStatusCode, requestId: requestId(), attempts: 1, totalRetryDelay: 0 };
}

/**
 * An AWS error as `client` would throw it: the modeled exception class when the service
 * models that name (so `instanceof` works), else the service's base exception with that
 * `name` (e.g. EC2's `DependencyViolation`, STS's `AccessDenied`). A client the emulator
 * does not know (`undefined`) gets a plain Error with that name.
 */
export function sdkError(
  client: SdkClient | undefined,
  name: string,
  message: string,
  fault: 'client' | 'server' = 'client',
  httpStatusCode = fault === 'server' ? 500 : 400,
): Error {
  const $metadata = metadata(httpStatusCode);
  const Base = client?.sdk[`${serviceName(client.name)}ServiceException`];
  const Modeled = client?.sdk[name];
  if (Base && typeof Modeled === 'function' && Modeled.prototype instanceof Base) {
    const err = new Modeled({ message, Message: message, $metadata });
    if (err.$fault !== fault) err.$fault = fault;
    return err as Error;
  }
  if (Base) {
    const err = new Base({ name, $fault: fault, $metadata, message });
    (err as any).Code = name;
    return err as Error;
  }
  const err = new Error(message) as Error & Record<string, unknown>;
  err.name = name;
  err.$fault = fault;
  err.$metadata = $metadata;
  return err;
}

/** A thrower bound to one client, for one service's file. */
export function errorsFor(client: SdkClient) {
  return (name: string, message: string, fault: 'client' | 'server' = 'client'): Error =>
    sdkError(client, name, message, fault);
}

// ---------------------------------------------------------------------------------
// Pagination: opaque tokens; a small page size so callers that ignore NextToken fail.

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

export function paginate<T>(
  all: readonly T[],
  token: string | undefined,
  requested: number | undefined,
  pageSize: number,
  invalid: (message: string) => Error,
  scope = 'p',
): Page<T> {
  let offset = 0;
  if (token !== undefined && token !== '') {
    const decoded = decodeToken(token);
    if (!decoded || decoded.scope !== scope || decoded.offset > all.length) {
      throw invalid('The specified pagination token is not valid.');
    }
    offset = decoded.offset;
  }
  const size = Math.max(1, Math.min(requested && requested > 0 ? requested : pageSize, pageSize));
  const items = all.slice(offset, offset + size);
  const next = offset + size;
  return { items, nextToken: next < all.length ? encodeToken(scope, next) : undefined };
}

function encodeToken(scope: string, offset: number): string {
  return Buffer.from(JSON.stringify({ s: scope, o: offset })).toString('base64');
}

function decodeToken(token: string): { scope: string; offset: number } | undefined {
  try {
    const raw = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { s?: unknown; o?: unknown };
    if (typeof raw.s !== 'string' || typeof raw.o !== 'number' || raw.o < 0) return undefined;
    return { scope: raw.s, offset: raw.o };
  } catch {
    return undefined;
  }
}

/** `Name` of an SDK command class name: 'ProvisionProductCommand' -> 'ProvisionProduct'. */
export function operationName(commandName: string): string {
  return commandName.endsWith('Command') ? commandName.slice(0, -'Command'.length) : commandName;
}

/** 'ServiceCatalogClient' -> 'ServiceCatalog'. */
export function serviceName(clientName: string): string {
  return clientName.endsWith('Client') ? clientName.slice(0, -'Client'.length) : clientName;
}
