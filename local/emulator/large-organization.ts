import { DEFAULT_ORGANIZATION, type AccountSpec, type OrganizationSpec } from './organizations';

export interface LargeOrganizationOptions {
  /** The organization the generated accounts are added to. @default DEFAULT_ORGANIZATION */
  readonly base?: OrganizationSpec;
  /**
   * The OUs the accounts are spread over, round robin.
   * @default - every OU of `base` registered with Control Tower
   */
  readonly ous?: readonly string[];
  /** Every how many accounts one was vended by Account Factory (has a provisioned product). @default 1 (all) */
  readonly provisionedEvery?: number;
}

/**
 * An organization of `count` existing accounts besides `base`'s, for scale tests and the
 * bench: `existing-00001` ... with emails `existing-00001@example.com`, spread over the
 * OUs, tagged `team` (one of 10) and `environment`, most with their Account Factory
 * provisioned product. Deterministic: the same count gives the same organization.
 */
export function largeOrganization(count: number, options: LargeOrganizationOptions = {}): OrganizationSpec {
  if (!Number.isInteger(count) || count < 0) {
    throw new Error(`largeOrganization: count must be a non-negative integer, got ${count}`);
  }
  const base = options.base ?? DEFAULT_ORGANIZATION;
  const ous = options.ous ?? base.ous.filter((o) => o.registered !== false).map((o) => o.name);
  if (!ous.length) throw new Error('largeOrganization: no OU to put the accounts in');
  const every = options.provisionedEvery ?? 1;
  const width = Math.max(5, String(count).length);
  const accounts: AccountSpec[] = [];
  for (let i = 1; i <= count; i++) {
    const n = String(i).padStart(width, '0');
    accounts.push({
      name: `existing-${n}`,
      email: `existing-${n}@example.com`,
      ou: ous[(i - 1) % ous.length],
      provisioned: i % every === 0,
      tags: { team: `team-${i % 10}`, environment: i % 3 === 0 ? 'production' : 'development' },
    });
  }
  return { ous: base.ous, accounts: [...(base.accounts ?? []), ...accounts] };
}
