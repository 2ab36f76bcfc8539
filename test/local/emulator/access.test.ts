import { ListOrganizationalUnitsForParentCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import {
  AssociatePrincipalWithPortfolioCommand,
  ListLaunchPathsCommand,
  ListPortfoliosCommand,
  SearchProductsCommand,
  ServiceCatalogClient,
} from '@aws-sdk/client-service-catalog';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { assumeRole, createClient } from '../../../lambda/shared/clients';
import { runAs } from '../../../local/emulator/caller';
import { principalOfRole } from '../../../local/emulator/common';
import { landingZone, uninstall } from './fixture';

/**
 * Who may do what in the emulated landing zone: identity policies, trust policies,
 * Account Factory's portfolio and home region (docs/aws-behaviour.md).
 */

afterEach(uninstall);

const MANAGEMENT = '111111111111';
const FACTORY = '222222222222';

/** A role CloudFormation would have made: trust, and one inline policy. */
function deploy(
  lz: ReturnType<typeof landingZone>['lz'],
  account: string,
  name: string,
  trust: unknown,
  statements: unknown[],
  path = '/',
): string {
  lz.deployRole(account, {
    name,
    path,
    trustPolicy: trust,
    policies: [{ Version: '2012-10-17', Statement: statements }],
    managedPolicyArns: [],
  });
  return `arn:aws:iam::${account}:role${path}${name}`;
}

const lambdaTrust = {
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

function organization() {
  return {
    ous: [{ name: 'Sandbox' }, { name: 'Infrastructure' }],
    accounts: [{ id: FACTORY, name: 'Factory', email: 'factory@example.com', ou: 'Infrastructure' }],
  };
}

/** A management role trusted by the factory's roles under /account-factory/, as ControlTowerAccess makes it. */
function managementRole(lz: ReturnType<typeof landingZone>['lz'], statements: unknown[]): string {
  return deploy(
    lz,
    MANAGEMENT,
    'AccountFactoryManagement',
    {
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${FACTORY}:root` },
          Action: 'sts:AssumeRole',
          Condition: { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${FACTORY}:role/account-factory/*` } },
        },
      ],
    },
    statements,
  );
}

const SERVICE_CATALOG = {
  Effect: 'Allow',
  Action: [
    'servicecatalog:SearchProducts',
    'servicecatalog:ListLaunchPaths',
    'servicecatalog:ListPortfolios',
    'servicecatalog:AssociatePrincipalWithPortfolio',
  ],
  Resource: '*',
};

test('a function acts as its role: an action its policies do not allow is refused, naming the action', async () => {
  const { lz } = landingZone({ organization: organization() });
  const role = deploy(lz, MANAGEMENT, 'Reader', lambdaTrust, [
    { Effect: 'Allow', Action: 'organizations:ListRoots', Resource: '*' },
  ]);
  const org = createClient(OrganizationsClient);

  const call = runAs(principalOfRole(role, 'reader-fn'), () =>
    org.send(new ListOrganizationalUnitsForParentCommand({ ParentId: 'r-abcd' })),
  );

  await expect(call).rejects.toMatchObject({
    name: 'AccessDeniedException',
    message: expect.stringContaining(
      'is not authorized to perform: organizations:ListOrganizationalUnitsForParent',
    ),
  });
});

test('the management role is assumed only by factory roles under its trusted path, each allowed to assume it', async () => {
  const { lz } = landingZone({ organization: organization() });
  const target = managementRole(lz, [SERVICE_CATALOG]);
  const allow = { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: target };
  const onPath = deploy(lz, FACTORY, 'Validate', lambdaTrust, [allow], '/account-factory/');
  const offPath = deploy(lz, FACTORY, 'Other', lambdaTrust, [allow]);
  const noPolicy = deploy(lz, FACTORY, 'NoPolicy', lambdaTrust, [], '/account-factory/');
  const sts = createClient(STSClient);
  const assume = (role: string) =>
    runAs(principalOfRole(role, 'fn'), () => assumeRole(sts, target, 'cdk-account-factory'));

  await expect(assume(onPath)).resolves.toMatchObject({ accessKeyId: expect.stringMatching(/^ASIA/) });
  // The trust's condition (aws:PrincipalArn under /account-factory/) is evaluated.
  await expect(assume(offPath)).rejects.toMatchObject({ name: 'AccessDenied' });
  // Across accounts the caller's own policy must allow sts:AssumeRole as well.
  await expect(assume(noPolicy)).rejects.toMatchObject({
    name: 'AccessDenied',
    message: expect.stringContaining('sts:AssumeRole'),
  });
});

test('a chained session is capped at one hour, with STS message', async () => {
  const { lz } = landingZone({ organization: organization() });
  const target = managementRole(lz, [SERVICE_CATALOG]);
  const caller = deploy(
    lz,
    FACTORY,
    'Validate',
    lambdaTrust,
    [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: target }],
    '/account-factory/',
  );
  const sts = createClient(STSClient);
  const call = runAs(principalOfRole(caller, 'fn'), () =>
    sts.send(new AssumeRoleCommand({ RoleArn: target, RoleSessionName: 'long', DurationSeconds: 7200 })),
  );
  await expect(call).rejects.toMatchObject({
    message:
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
  });
});

test('Account Factory is visible only to principals associated with its portfolio, in the home region', async () => {
  const { lz } = landingZone({ organization: organization(), homeRegion: 'eu-west-1' });
  const role = managementRole(lz, [SERVICE_CATALOG]);
  const asRole = <T>(fn: () => Promise<T>) => runAs(principalOfRole(role, 'mgmt'), fn);
  const home = createClient(ServiceCatalogClient, { region: 'eu-west-1' });
  const elsewhere = createClient(ServiceCatalogClient, { region: 'us-east-1' });
  const search = (sc: ServiceCatalogClient) =>
    asRole(() => sc.send(new SearchProductsCommand({ Filters: { FullTextSearch: ['Account Factory'] } })));

  // Not associated: no product, no launch path.
  expect((await search(home)).ProductViewSummaries).toEqual([]);
  const productId = lz.accountFactoryProductId;
  await expect(
    asRole(() => home.send(new ListLaunchPathsCommand({ ProductId: productId }))),
  ).rejects.toMatchObject({
    name: 'ResourceNotFoundException',
    message: `No launch paths found for resource: ${productId}`,
  });

  // Associated (what the portfolio access custom resource does at deploy).
  const { PortfolioDetails } = await asRole(() => home.send(new ListPortfoliosCommand({})));
  const portfolio = PortfolioDetails!.find(
    (p) => p.DisplayName === 'AWS Control Tower Account Factory Portfolio',
  )!;
  await asRole(() =>
    home.send(
      new AssociatePrincipalWithPortfolioCommand({
        PortfolioId: portfolio.Id,
        PrincipalARN: role,
        PrincipalType: 'IAM',
      }),
    ),
  );
  expect((await search(home)).ProductViewSummaries).toHaveLength(1);
  // Only in the home region.
  expect((await search(elsewhere)).ProductViewSummaries).toEqual([]);
});

test('temporary credentials this landing zone never issued are refused', async () => {
  landingZone({ organization: organization() });
  const sc = createClient(ServiceCatalogClient, {
    credentials: { accessKeyId: 'ASIAFROMANOTHERPLACE', secretAccessKey: 'x', sessionToken: 'y' },
  });
  await expect(sc.send(new SearchProductsCommand({}))).rejects.toMatchObject({
    name: 'UnrecognizedClientException',
    message: 'The security token included in the request is invalid.',
  });
});
