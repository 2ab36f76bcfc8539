import {
  DescribeAccountCommand,
  ListParentsCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import {
  DescribeProvisionedProductCommand,
  DescribeRecordCommand,
  InvalidParametersException,
  ProvisionProductCommand,
  SearchProvisionedProductsCommand,
  ServiceCatalogClient,
  TerminateProvisionedProductCommand,
  UpdateProvisionedProductCommand,
} from '@aws-sdk/client-service-catalog';
import { createClient } from '../../../lambda/shared/clients';
import { CONTROL_TOWER_BUSY_MESSAGE, ScaledClock } from '../../../local/emulator';
import { accountFactory, landingZone, MINUTE, parameters, provision, rejection, uninstall } from './fixture';

afterEach(uninstall);

const NO_JITTER = { jitter: 0 };

describe('Account Factory through Service Catalog', () => {
  test('vends an account end to end: CREATED -> IN_PROGRESS -> SUCCEEDED, account in its OU with role and default VPCs', async () => {
    const { clock, lz } = landingZone({ controlTower: NO_JITTER });
    const sc = createClient(ServiceCatalogClient);
    const orgs = createClient(OrganizationsClient);
    const ids = await accountFactory(sc);

    const started = await provision(sc, ids, {
      name: 'Team A Dev',
      email: 'team-a-dev@example.com',
      ou: 'Sandbox',
    });
    const recordId = started.RecordDetail!.RecordId!;
    expect(started.RecordDetail!.Status).toBe('CREATED');
    expect(started.RecordDetail!.RecordType).toBe('PROVISION_PRODUCT');

    await clock.advance(MINUTE);
    const running = await sc.send(new DescribeRecordCommand({ Id: recordId }));
    expect(running.RecordDetail!.Status).toBe('IN_PROGRESS');
    expect(running.RecordOutputs).toEqual([]);
    expect(lz.account('team-a-dev@example.com')).toBeUndefined();

    await clock.advance(24 * MINUTE + 1);
    const done = await sc.send(new DescribeRecordCommand({ Id: recordId }));
    expect(done.RecordDetail!.Status).toBe('SUCCEEDED');
    const outputs = Object.fromEntries(done.RecordOutputs!.map((o) => [o.OutputKey, o.OutputValue]));
    expect(Object.keys(outputs).sort()).toEqual([
      'AccountEmail',
      'AccountId',
      'SSOUserEmail',
      'SSOUserPortal',
    ]);
    const accountId = outputs.AccountId!;
    expect(accountId).toMatch(/^\d{12}$/);

    const described = await orgs.send(new DescribeAccountCommand({ AccountId: accountId }));
    expect(described.Account).toMatchObject({
      Name: 'Team A Dev',
      Email: 'team-a-dev@example.com',
      Status: 'ACTIVE',
    });
    const parents = await orgs.send(new ListParentsCommand({ ChildId: accountId }));
    expect(parents.Parents).toEqual([{ Id: lz.ou('Sandbox')!.id, Type: 'ORGANIZATIONAL_UNIT' }]);

    expect(lz.roles(accountId).map((r) => r.name)).toEqual(['AWSControlTowerExecution']);
    expect(lz.defaultVpcs(accountId).map((v) => v.region)).toEqual([
      'us-east-1',
      'us-west-2',
      'eu-west-1',
      'ap-southeast-2',
    ]);
    expect(
      lz.defaultVpcs(accountId).every((v) => v.subnetIds.length === 3 && v.internetGatewayIds.length === 1),
    ).toBe(true);
    expect(lz.accountsCreatedByEmail).toEqual({ 'team-a-dev@example.com': 1 });

    const product = await sc.send(
      new DescribeProvisionedProductCommand({ Id: started.RecordDetail!.ProvisionedProductId }),
    );
    expect(product.ProvisionedProductDetail).toMatchObject({
      Status: 'AVAILABLE',
      LastSuccessfulProvisioningRecordId: recordId,
    });
  });

  test("refuses a 6th concurrent operation with Control Tower's message, and accepts again once a slot frees", async () => {
    const { clock, lz } = landingZone({ controlTower: NO_JITTER });
    const sc = createClient(ServiceCatalogClient);
    const ids = await accountFactory(sc);
    for (let n = 1; n <= 5; n++) {
      await provision(sc, ids, { name: `Acct ${n}`, email: `acct-${n}@example.com`, ou: 'Sandbox' });
      await clock.advance(MINUTE);
    }

    const refused = await rejection(
      provision(sc, ids, { name: 'Acct 6', email: 'acct-6@example.com', ou: 'Sandbox' }),
    );
    expect(refused).toBeInstanceOf(InvalidParametersException);
    expect(refused.name).toBe('InvalidParametersException');
    expect(refused.message).toBe(CONTROL_TOWER_BUSY_MESSAGE);
    expect(refused.$fault).toBe('client');

    await clock.advance(21 * MINUTE); // the first operation (25 min) has ended
    const accepted = await provision(sc, ids, { name: 'Acct 6', email: 'acct-6@example.com', ou: 'Sandbox' });
    expect(accepted.RecordDetail!.Status).toBe('CREATED');
    expect(lz.peakConcurrentOperations).toBe(5);
    expect(lz.refusedOperations).toBe(1);
    expect(lz.provisionRequestsByEmail['acct-6@example.com']).toBe(1);
  });

  test('the same ProvisionToken twice returns the same record and vends one account', async () => {
    const { clock, lz } = landingZone();
    const sc = createClient(ServiceCatalogClient);
    const ids = await accountFactory(sc);
    const first = await provision(sc, ids, {
      name: 'Idem',
      email: 'idem@example.com',
      ou: 'Sandbox',
      token: 'tok-1',
    });
    await clock.advance(MINUTE);
    const second = await provision(sc, ids, {
      name: 'Idem',
      email: 'idem@example.com',
      ou: 'Sandbox',
      token: 'tok-1',
    });
    expect(second.RecordDetail!.RecordId).toBe(first.RecordDetail!.RecordId);
    expect(second.RecordDetail!.Status).toBe('IN_PROGRESS');

    await clock.advance(40 * MINUTE);
    const third = await provision(sc, ids, {
      name: 'Idem',
      email: 'idem@example.com',
      ou: 'Sandbox',
      token: 'tok-1',
    });
    expect(third.RecordDetail!.Status).toBe('SUCCEEDED');
    expect(lz.accountsCreatedByEmail).toEqual({ 'idem@example.com': 1 });
    expect(lz.controlTowerOperations).toHaveLength(1);
  });

  test('failProvisioning ends the record FAILED with record errors and no account', async () => {
    const { clock, lz } = landingZone({ faults: { failProvisioning: ['broken@example.com'] } });
    const sc = createClient(ServiceCatalogClient);
    const ids = await accountFactory(sc);
    const started = await provision(sc, ids, { name: 'Broken', email: 'broken@example.com', ou: 'Sandbox' });
    await clock.advance(40 * MINUTE);

    const record = await sc.send(new DescribeRecordCommand({ Id: started.RecordDetail!.RecordId }));
    expect(record.RecordDetail!.Status).toBe('FAILED');
    expect(record.RecordDetail!.RecordErrors).toEqual([
      {
        Code: 'AccountFactoryFailure',
        Description: expect.stringContaining('failed to provision account Broken'),
      },
    ]);
    expect(record.RecordOutputs).toEqual([]);
    expect(lz.account('broken@example.com')).toBeUndefined();
    expect(lz.accountsCreatedByEmail).toEqual({});
    expect(lz.faultsInjected.byKind.failProvisioning).toBe(1);
    const product = await sc.send(
      new DescribeProvisionedProductCommand({ Id: started.RecordDetail!.ProvisionedProductId }),
    );
    expect(product.ProvisionedProductDetail!.Status).toBe('ERROR');
  });

  test('missing or unknown parameters are refused up front', async () => {
    landingZone();
    const sc = createClient(ServiceCatalogClient);
    const ids = await accountFactory(sc);
    const missing = await rejection(
      sc.send(
        new ProvisionProductCommand({
          ProductId: ids.productId,
          ProvisioningArtifactId: ids.artifactId,
          ProvisionedProductName: 'NoSso',
          ProvisioningParameters: parameters({
            name: 'No SSO',
            email: 'no-sso@example.com',
            ou: 'Sandbox',
          }).filter((p) => p.Key !== 'SSOUserLastName'),
          ProvisionToken: 'tok-missing',
        }),
      ),
    );
    expect(missing.name).toBe('InvalidParametersException');
    expect(missing.message).toContain('SSOUserLastName');

    const unknown = await rejection(
      sc.send(
        new ProvisionProductCommand({
          ProductId: ids.productId,
          ProvisioningArtifactId: ids.artifactId,
          ProvisionedProductName: 'Extra',
          ProvisioningParameters: [
            ...parameters({ name: 'Extra', email: 'extra@example.com', ou: 'Sandbox' }),
            { Key: 'Region', Value: 'us-east-1' },
          ],
        }),
      ),
    );
    expect(unknown.message).toContain('[Region] do not exist');
  });

  test('an unregistered OU fails the record quickly; "Name (ou-id)" resolves a nested OU', async () => {
    const { clock, lz } = landingZone({ controlTower: NO_JITTER });
    const sc = createClient(ServiceCatalogClient);
    const ids = await accountFactory(sc);
    const bad = await provision(sc, ids, { name: 'Parked', email: 'parked@example.com', ou: 'Suspended' });
    const prod = lz.ou('Workloads/Production')!;
    const good = await provision(sc, ids, {
      name: 'Prod App',
      email: 'prod-app@example.com',
      ou: `Production (${prod.id})`,
    });
    await clock.advance(2 * MINUTE);

    const failed = await sc.send(new DescribeRecordCommand({ Id: bad.RecordDetail!.RecordId }));
    expect(failed.RecordDetail!.Status).toBe('FAILED');
    expect(failed.RecordDetail!.RecordErrors![0].Description).toContain('not registered');

    await clock.advance(25 * MINUTE);
    const ok = await sc.send(new DescribeRecordCommand({ Id: good.RecordDetail!.RecordId }));
    expect(ok.RecordDetail!.Status).toBe('SUCCEEDED');
    expect(lz.account('prod-app@example.com')).toMatchObject({
      ouId: prod.id,
      ouPath: 'Workloads/Production',
    });
  });

  test('an existing account with the same email and name is enrolled: moved, not created', async () => {
    const { clock, lz } = landingZone({
      organization: {
        ous: [{ name: 'Sandbox' }, { name: 'Legacy', registered: false }],
        accounts: [{ name: 'Old Shop', email: 'old-shop@example.com', ou: 'Legacy' }],
      },
    });
    const before = lz.account('old-shop@example.com')!;
    const sc = createClient(ServiceCatalogClient);
    const ids = await accountFactory(sc);
    const started = await provision(sc, ids, {
      name: 'Old Shop',
      email: 'old-shop@example.com',
      ou: 'Sandbox',
    });
    await clock.advance(30 * MINUTE);

    const record = await sc.send(new DescribeRecordCommand({ Id: started.RecordDetail!.RecordId }));
    expect(record.RecordDetail!.Status).toBe('SUCCEEDED');
    expect(record.RecordOutputs!.find((o) => o.OutputKey === 'AccountId')!.OutputValue).toBe(before.id);
    expect(lz.account('old-shop@example.com')!.ouName).toBe('Sandbox');
    expect(lz.accountsCreatedByEmail).toEqual({});
    expect(lz.accounts.filter((a) => a.email === 'old-shop@example.com')).toHaveLength(1);
  });

  test('update moves the account to a new OU and renames it, after updateSeconds; terminate removes the product', async () => {
    const { clock, lz } = landingZone({
      controlTower: { jitter: 0, createSeconds: 600, updateSeconds: 300 },
    });
    const sc = createClient(ServiceCatalogClient);
    const ids = await accountFactory(sc);
    const started = await provision(sc, ids, { name: 'Mover', email: 'mover@example.com', ou: 'Sandbox' });
    await clock.advance(11 * MINUTE);
    const ppId = started.RecordDetail!.ProvisionedProductId!;

    const update = await sc.send(
      new UpdateProvisionedProductCommand({
        ProvisionedProductId: ppId,
        ProductId: ids.productId,
        ProvisioningArtifactId: ids.artifactId,
        ProvisioningParameters: [
          { Key: 'AccountEmail', UsePreviousValue: true },
          { Key: 'AccountName', Value: 'Mover Renamed' },
          { Key: 'ManagedOrganizationalUnit', Value: 'Workloads' },
          { Key: 'SSOUserEmail', UsePreviousValue: true },
          { Key: 'SSOUserFirstName', UsePreviousValue: true },
          { Key: 'SSOUserLastName', UsePreviousValue: true },
        ],
        UpdateToken: 'upd-1',
      }),
    );
    expect(update.RecordDetail!.RecordType).toBe('UPDATE_PROVISIONED_PRODUCT');
    await clock.advance(4 * MINUTE);
    expect(lz.account('mover@example.com')!.ouName).toBe('Sandbox');
    await clock.advance(2 * MINUTE);
    expect(lz.account('mover@example.com')).toMatchObject({ ouName: 'Workloads', name: 'Mover Renamed' });
    expect(lz.accountsCreatedByEmail).toEqual({ 'mover@example.com': 1 });

    await sc.send(
      new TerminateProvisionedProductCommand({ ProvisionedProductId: ppId, TerminateToken: 'term-1' }),
    );
    await clock.advance(6 * MINUTE);
    const gone = await rejection(sc.send(new DescribeProvisionedProductCommand({ Id: ppId })));
    expect(gone.name).toBe('ResourceNotFoundException');
    expect(lz.account('mover@example.com')!.status).toBe('ACTIVE');
    expect(lz.controlTowerOperations.map((o) => o.type)).toEqual(['PROVISION', 'UPDATE', 'TERMINATE']);
  });

  test("SearchProvisionedProducts sees other principals' products only with AccessLevelFilter Account", async () => {
    landingZone({
      organization: {
        ous: [{ name: 'Sandbox' }],
        accounts: [
          { name: 'Vended Before', email: 'vended-before@example.com', ou: 'Sandbox', provisioned: true },
        ],
      },
    });
    const sc = createClient(ServiceCatalogClient);
    const mine = await sc.send(new SearchProvisionedProductsCommand({}));
    expect(mine.ProvisionedProducts).toEqual([]);
    const all = await sc.send(
      new SearchProvisionedProductsCommand({ AccessLevelFilter: { Key: 'Account', Value: 'self' } }),
    );
    expect(all.ProvisionedProducts).toHaveLength(1);
    expect(all.ProvisionedProducts![0]).toMatchObject({ Type: 'CONTROL_TOWER_ACCOUNT', Status: 'AVAILABLE' });
    const byName = await sc.send(
      new SearchProvisionedProductsCommand({
        AccessLevelFilter: { Key: 'Account', Value: 'self' },
        Filters: { SearchQuery: ['name:Nope'] },
      }),
    );
    expect(byName.ProvisionedProducts).toEqual([]);
  });

  test('peak concurrency comes from the intervals: an operation ending frees its slot for one starting then', async () => {
    const { clock, lz } = landingZone({ controlTower: { jitter: 0, createSeconds: 100 } });
    const sc = createClient(ServiceCatalogClient);
    const ids = await accountFactory(sc);
    await provision(sc, ids, { name: 'A', email: 'a@example.com', ou: 'Sandbox' }); // 0..100
    await clock.advance(50_000);
    await provision(sc, ids, { name: 'B', email: 'b@example.com', ou: 'Sandbox' }); // 50..150
    await clock.advance(50_000);
    await provision(sc, ids, { name: 'C', email: 'c@example.com', ou: 'Sandbox' }); // 100..200
    expect(lz.peakConcurrentOperations).toBe(2);
    await clock.advance(20_000);
    await provision(sc, ids, { name: 'D', email: 'd@example.com', ou: 'Sandbox' }); // 120..220
    expect(lz.peakConcurrentOperations).toBe(3);
    const ops = lz.controlTowerOperations;
    expect(ops.map((o) => (o.end - o.start) / 1000)).toEqual([100, 100, 100, 100]);
  });

  test('on a scaled clock, records complete as emulated time passes, with no clock stepping', async () => {
    const clock = new ScaledClock({ scale: 20_000 });
    const { lz } = landingZone({ clock });
    const sc = createClient(ServiceCatalogClient);
    const ids = await accountFactory(sc);
    const started = await provision(sc, ids, { name: 'Fast', email: 'fast@example.com', ou: 'Sandbox' });
    await clock.sleep(30 * MINUTE); // ~90 ms of real time
    const done = await sc.send(new DescribeRecordCommand({ Id: started.RecordDetail!.RecordId }));
    expect(done.RecordDetail!.Status).toBe('SUCCEEDED');
    expect(lz.account('fast@example.com')!.ouName).toBe('Sandbox');
  });

  test('external operations occupy Control Tower slots for their duration', async () => {
    const { clock, lz } = landingZone({ faults: { externalOperations: { count: 5, seconds: 600 } } });
    const sc = createClient(ServiceCatalogClient);
    const ids = await accountFactory(sc);
    const refused = await rejection(
      provision(sc, ids, { name: 'Wait', email: 'wait@example.com', ou: 'Sandbox' }),
    );
    expect(refused.message).toBe(CONTROL_TOWER_BUSY_MESSAGE);
    await clock.advance(10 * MINUTE);
    await provision(sc, ids, { name: 'Wait', email: 'wait@example.com', ou: 'Sandbox' });
    expect(lz.faultsInjected.byKind.externalOperations).toBe(5);
  });
});
