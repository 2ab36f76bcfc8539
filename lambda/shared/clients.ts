import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { addBusyRetry } from './retry';
import { captureClient } from './tracer';

/**
 * Every AWS SDK v3 client in the handlers is made here. In AWS this is a plain
 * `new XClient(config)`, captured by the handlers' Tracer where tracing is on (each call
 * a subsegment of the trace; lambda/shared/tracer.ts). The local engine installs a hook
 * first: it adds its config (DynamoDB endpoint, static credentials) and its middleware
 * (the emulated landing zone) beneath the real client, so the handlers run unchanged.
 */
export interface ClientHook {
  /** Extra constructor config for a client class (e.g. endpoint, credentials). */
  config?(clientName: string): Record<string, unknown> | undefined;
  /**
   * Called with each new client (e.g. to add middleware), and the config the code gave
   * it: its `credentials` as given, before the SDK memoizes them on the wall clock.
   */
  attach?(client: unknown, clientName: string, config?: Record<string, unknown>): void;
}

/*
 * The hook is process-wide, and this is the one place the local run needs a global: a
 * handler creates its clients at module level (once per execution environment, as in
 * Lambda), so there is no call through which a landing zone could be passed to it.
 * `createClient()` reads the hook when a client is made; the emulator's middleware reads
 * it again on each call (`LandingZone.installed()`), so clients kept from an earlier
 * landing zone reach the current one. Keyed on globalThis with `Symbol.for` so every copy
 * of this module (a bundle, another module registry) sees the same hook.
 */
const HOOK_KEY = Symbol.for('cdk-account-factory.client-hook');
type HookHost = { [HOOK_KEY]?: ClientHook };

export function installClientHook(hook: ClientHook | undefined): void {
  (globalThis as HookHost)[HOOK_KEY] = hook;
}

export function clientHook(): ClientHook | undefined {
  return (globalThis as HookHost)[HOOK_KEY];
}

type Ctor<C, Cfg> = new (config: Cfg) => C;

/**
 * Creates an SDK client: the same everywhere, emulated locally when a hook is installed,
 * traced in Lambda when tracing is on.
 */
export function createClient<C, Cfg extends object>(ClientClass: Ctor<C, Cfg>, config: Cfg = {} as Cfg): C {
  const hook = clientHook();
  const name = ClientClass.name;
  const client = new ClientClass({
    ...config,
    ...(hook?.config?.(name) ?? {}),
    ...pick(config, 'credentials'),
  });
  // Throttling and busy errors are retried with backoff and jitter, beyond the SDK's own retry.
  addBusyRetry(client);
  hook?.attach?.(client, name, config as Record<string, unknown>);
  return captureClient(client);
}

function pick(config: object, key: string): Record<string, unknown> {
  const value = (config as Record<string, unknown>)[key];
  return value === undefined ? {} : { [key]: value };
}

export interface AssumedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/**
 * Assumes a role (in a member account, or in the Control Tower management account)
 * and returns credentials for new clients. The session name says who acted.
 */
export async function assumeRole(
  sts: STSClient,
  roleArn: string,
  sessionName = 'cdk-account-factory',
): Promise<AssumedCredentials> {
  const out = await sts.send(
    new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName, DurationSeconds: 900 }),
  );
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) {
    throw new Error(`AssumeRole ${roleArn} returned no credentials`);
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  };
}

export function roleArn(accountId: string, roleName: string, partition = 'aws'): string {
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}
