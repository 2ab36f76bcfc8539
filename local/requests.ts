import type { AccountRequestInput } from '../lambda/shared/schema';

/** OUs of the emulated organization that generated requests spread over. */
const GENERATED_OUS = ['Sandbox', 'Workloads', 'Security'];

/** `n` valid, distinct account requests (example.com addresses), spread over a few OUs. */
export function generateRequests(n: number, prefix = 'generated'): AccountRequestInput[] {
  return Array.from({ length: n }, (_, i) => {
    const id = `${prefix}-${String(i + 1).padStart(3, '0')}`;
    return {
      accountEmail: `${id}@example.com`,
      accountName: id,
      organizationalUnit: GENERATED_OUS[i % GENERATED_OUS.length],
      sso: { email: 'platform-team@example.com', firstName: 'Platform', lastName: 'Team' },
      tags: { 'cost-center': `cc-${100 + (i % 7)}`, owner: 'platform-team' },
      customFields: { purpose: 'generated load' },
    };
  });
}
