/**
 * Caches that live as long as a Lambda execution environment (module level): the
 * management role's credentials, the Account Factory product's ids. In AWS a deploy
 * starts new environments, so they start empty. The local engine runs every
 * deployment in one process and empties them when it deploys (`resetWarmCaches`).
 */
const REGISTRY_KEY = Symbol.for('cdk-account-factory.warm-caches');
type Host = { [REGISTRY_KEY]?: Set<Map<unknown, unknown>> };

function registry(): Set<Map<unknown, unknown>> {
  const host = globalThis as Host;
  host[REGISTRY_KEY] ??= new Set();
  return host[REGISTRY_KEY];
}

/** A module-level cache, emptied when a new deployment starts its environments. */
export function warmCache<K, V>(): Map<K, V> {
  const cache = new Map<K, V>();
  registry().add(cache as Map<unknown, unknown>);
  return cache;
}

/** Empties every warm cache: the next invocations start as in new execution environments. */
export function resetWarmCaches(): void {
  for (const cache of registry()) cache.clear();
}
