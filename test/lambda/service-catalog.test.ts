import {
  AccountRequestSchema,
  PROVISIONED_PRODUCT_NAME,
  provisionedProductName,
} from '../../lambda/shared/schema';
import { isControlTowerBusy } from '../../lambda/shared/service-catalog';

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

const request = (accountName: string, accountEmail = 'dev@example.com') =>
  AccountRequestSchema.parse({
    accountEmail,
    accountName,
    organizationalUnit: 'Sandbox',
    sso: { email: 'admin@example.com', firstName: 'Ada', lastName: 'Admin' },
  });

describe('isControlTowerBusy', () => {
  test.each([
    [
      'InvalidParametersException',
      'Account Factory cannot complete an operation on this account, because another AWS Control Tower operation is in progress. Try again later.',
    ],
    [
      'InvalidParametersException',
      'Another operation is in progress for the account with email dev@example.com.',
    ],
    [
      'InvalidParametersException',
      'AWS Control Tower cannot start this operation: an operation is already in progress.',
    ],
    [
      'InvalidStateException',
      'An attempt was made to modify a resource that is in a state that is not valid. Check your resources to ensure that they are in valid states before retrying the operation.',
    ],
    ['ConflictException', 'Updating or deleting the resource can cause an inconsistent state.'],
  ])('%s: %s is busy', (name, message) => {
    expect(isControlTowerBusy(named(name, message))).toBe(true);
  });

  test.each([
    ['InvalidParametersException', 'A stack named dev-1234 already exists.'],
    ['ResourceNotFoundException', 'Another operation is in progress'],
    ['InvalidParametersException', 'ProvisionedProductName is not valid.'],
  ])('%s: %s is not busy', (name, message) => {
    expect(isControlTowerBusy(named(name, message))).toBe(false);
  });
});

describe('provisionedProductName', () => {
  test.each(['_platform', '-x', '.hidden', 'Team Alpha (prod)', '  ', '__', 'a'])(
    'account name %p gives a name Service Catalog takes',
    (accountName) => {
      const parsed = AccountRequestSchema.safeParse({
        accountEmail: 'dev@example.com',
        accountName,
        organizationalUnit: 'Sandbox',
        sso: { email: 'admin@example.com', firstName: 'Ada', lastName: 'Admin' },
      });
      if (!parsed.success) return; // not a valid account name: never provisioned
      expect(provisionedProductName(parsed.data)).toMatch(PROVISIONED_PRODUCT_NAME);
    },
  );

  test('a name starting with _ is valid (it was not)', () => {
    expect(provisionedProductName(request('_platform'))).toMatch(/^platform-[0-9a-f]{8}$/);
  });

  test('names valid before keep their value (existing provisioned products are found again)', () => {
    expect(provisionedProductName(request('Dev Account'))).toMatch(/^Dev-Account-[0-9a-f]{8}$/);
    expect(provisionedProductName(request('team.alpha_01'))).toMatch(/^team-alpha_01-[0-9a-f]{8}$/);
  });

  test('every valid account name gives a valid, stable name, unique per request', () => {
    // Every printable ASCII character Organizations takes, first, in the middle and last.
    const chars = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).filter(
      (c) => c !== '<' && c !== '>',
    );
    const names = chars.flatMap((c) => [`${c}x`, `x${c}`, `${c}${c}`, `${c} ${c}`, `${c}${'y'.repeat(49)}`]);
    for (const accountName of names) {
      const parsed = AccountRequestSchema.safeParse({
        accountEmail: 'dev@example.com',
        accountName,
        organizationalUnit: 'Sandbox',
        sso: { email: 'admin@example.com', firstName: 'Ada', lastName: 'Admin' },
      });
      if (!parsed.success) continue;
      const name = provisionedProductName(parsed.data);
      expect(name).toMatch(PROVISIONED_PRODUCT_NAME);
      expect(provisionedProductName(parsed.data)).toBe(name);
      expect(provisionedProductName({ ...parsed.data, accountEmail: 'other@example.com' })).not.toBe(name);
    }
  });
});
