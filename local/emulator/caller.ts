import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from './common';

/**
 * Who is calling, for calls made with the ambient credentials: in AWS a Lambda function
 * calls as its execution role and a state machine's tasks as the state machine's role.
 * The local engine runs every function in one process, so it marks each invocation (and
 * each SDK integration task) with its principal here, and the emulator reads it back.
 */
const storage = new AsyncLocalStorage<Principal>();

/** Runs `fn` (and everything it awaits) as `principal`. */
export function runAs<T>(principal: Principal, fn: () => T): T {
  return storage.run(principal, fn);
}

/** The principal of the invocation this code runs in, if the engine set one. */
export function currentCaller(): Principal | undefined {
  return storage.getStore();
}
