import { ControlTowerClient } from '@aws-sdk/client-controltower';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeOrganizationalUnitCommand,
  ListAccountsCommand,
  ListOrganizationalUnitsForParentCommand,
  ListRootsCommand,
  OrganizationalUnitNotFoundException,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { AwsStub, mockClient } from 'aws-sdk-client-mock';
import { ListEnabledBaselinesCommand } from '../../lambda/shared/control-tower';
import { InvalidAccountRequest, OrganizationalUnitNotFound } from '../../lambda/shared/errors';
import { parseAccountRequest } from '../../lambda/shared/schema';
import { validateRequest } from '../../lambda/validate-request';
import {
  malformedRequests,
  MalformedRequest,
  organizationalUnitLookalikes,
  validRequest,
} from '../fixtures/malformed-requests';

/**
 * The malformed-request corpus against the request schema and the Validate
 * request step: every request is rejected, the error names the field, and the
 * step makes no call that changes anything in the organization.
 */

const orgMock = mockClient(OrganizationsClient);
// Control Tower client 3.332 predates the smithy types aws-sdk-client-mock is written against.
const ctMock: AwsStub<any, any, any> = mockClient(ControlTowerClient as any);
const ddbMock = mockClient(DynamoDBDocumentClient);
// The step has no Service Catalog or STS client of its own; mocking them catches any that appears.
const scMock = mockClient(ServiceCatalogClient);
const stsMock = mockClient(STSClient);

const clients = {
  organizations: new OrganizationsClient({ region: 'us-east-1' }),
  controlTower: new ControlTowerClient({ region: 'us-east-1' }),
  serviceCatalog: new ServiceCatalogClient({ region: 'us-east-1' }),
  metadata: {
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
    tableName: 'metadata',
    emailIndexName: 'email-index',
  },
};

const SANDBOX = 'ou-abcd-11111111';
const SANDBOX_ARN = `arn:aws:organizations::999999999999:ou/o-example/${SANDBOX}`;

type StepPayload = Parameters<typeof validateRequest>[1];
const payload = (request: unknown): StepPayload => ({
  state: { requestId: 'dev@example.com', version: 1, eventName: 'INSERT', request, previous: null },
});

/** What reads look like in these APIs; anything else would change the organization or a table. */
const READ_COMMAND = /^(List|Describe|Get|Query|Scan|BatchGet|Search)\w*Command$/;

function commandNames(mock: AwsStub<any, any, any>): string[] {
  return mock.calls().map((c) => (c.args[0] as object).constructor.name);
}

/** Every command the step sent, by client. */
function sentCommands() {
  return {
    organizations: commandNames(orgMock),
    controlTower: commandNames(ctMock),
    dynamodb: commandNames(ddbMock),
    serviceCatalog: commandNames(scMock),
    sts: commandNames(stsMock),
  };
}

function expectNoWrites(): void {
  const sent = sentCommands();
  const writes = [
    ...sent.serviceCatalog,
    ...sent.organizations,
    ...sent.controlTower,
    ...sent.dynamodb,
    ...sent.sts,
  ].filter((name) => !READ_COMMAND.test(name));
  expect(writes).toEqual([]);
}

/** The error names the field: an issue on the field itself or on one inside it. */
const namesField = (issueField: string, field: string) =>
  issueField === field || issueField.startsWith(`${field}.`);

beforeEach(() => {
  for (const m of [orgMock, ctMock, ddbMock, scMock, stsMock]) m.reset();
  orgMock.on(ListRootsCommand).resolves({ Roots: [{ Id: 'r-abcd', Name: 'Root' }] });
  orgMock
    .on(ListOrganizationalUnitsForParentCommand, { ParentId: 'r-abcd' })
    .resolves({ OrganizationalUnits: [{ Id: SANDBOX, Name: 'Sandbox', Arn: SANDBOX_ARN }] })
    .on(ListOrganizationalUnitsForParentCommand, { ParentId: SANDBOX })
    .resolves({ OrganizationalUnits: [] });
  orgMock
    .on(DescribeOrganizationalUnitCommand)
    .rejects(new OrganizationalUnitNotFoundException({ message: 'not found', $metadata: {} }))
    .on(DescribeOrganizationalUnitCommand, { OrganizationalUnitId: SANDBOX })
    .resolves({ OrganizationalUnit: { Id: SANDBOX, Name: 'Sandbox', Arn: SANDBOX_ARN } });
  orgMock.on(ListAccountsCommand).resolves({ Accounts: [] });
  ctMock.on(ListEnabledBaselinesCommand as any).resolves({
    enabledBaselines: [
      {
        arn: `arn:aws:controltower:us-east-1:999999999999:enabledbaseline/${SANDBOX}`,
        baselineIdentifier: 'arn:aws:controltower:us-east-1::baseline/17BSJV3IGJ2QSGA2',
        targetIdentifier: SANDBOX_ARN,
        statusSummary: { status: 'SUCCEEDED' },
      },
    ],
  });
  ddbMock.on(QueryCommand).resolves({ Items: [] });
});

const corpus = malformedRequests();

test('the corpus holds at least 200 distinct malformed requests', () => {
  expect(corpus.length).toBeGreaterThanOrEqual(200);
  expect(new Set(corpus.map((e) => e.name)).size).toBe(corpus.length);
});

test('the requests the corpus starts from are valid, and the step accepts them with reads only', async () => {
  expect(parseAccountRequest(validRequest()).ok).toBe(true);

  const result = await validateRequest(clients, payload(validRequest()));

  expect(result.operation).toBe('CREATE');
  // The mocks answer the step, and the read filter sees its calls.
  expect(sentCommands().organizations).toEqual(
    expect.arrayContaining(['ListRootsCommand', 'ListAccountsCommand']),
  );
  expectNoWrites();
});

describe('the request schema rejects every malformed request and names the field', () => {
  test.each(corpus)('$name', ({ request, field }: MalformedRequest) => {
    const parsed = parseAccountRequest(request);

    expect(parsed.ok).toBe(false);
    const fields = parsed.ok ? [] : parsed.issues.map((i) => i.field);
    // One thing is wrong in each request: every issue is about the labelled field.
    expect(fields.length).toBeGreaterThan(0);
    expect(fields.filter((f) => !namesField(f, field))).toEqual([]);
  });
});

describe('the Validate request step throws InvalidAccountRequest naming the field, and writes nothing', () => {
  test.each(corpus)('$name', async ({ request, field }: MalformedRequest) => {
    const error = await validateRequest(clients, payload(request)).then(
      () => undefined,
      (err: unknown) => err,
    );

    expect(error).toBeInstanceOf(InvalidAccountRequest);
    expect((error as Error).name).toBe('InvalidAccountRequest');
    // The message is "<field>: <reason>; <field>: <reason>...", starting with the first bad field.
    const { message } = error as Error;
    const named = message.startsWith(`${field}: `) || message.startsWith(`${field}.`);
    expect(named ? message : `does not start with ${field}: ${message}`).toBe(message);
    expectNoWrites();
  });
});

/** "Name (ou-...)" with a malformed id: the schema itself rejects it, so the loader, `validate` and the workflow agree. */
const malformedOuId = (r: MalformedRequest) =>
  /\(/.test((r.request as { organizationalUnit: string }).organizationalUnit);

describe('OU look-alikes of the "Name (ou-xxxx-xxxxxxxx)" form: the schema rejects them, naming organizationalUnit', () => {
  const cases = organizationalUnitLookalikes().filter(malformedOuId);
  test('there are such cases', () => expect(cases.length).toBeGreaterThan(5));
  test.each(cases)('$name', async ({ request }: MalformedRequest) => {
    const parsed = parseAccountRequest(request);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.issues.map((i) => i.field)).toEqual(['organizationalUnit']);

    await expect(validateRequest(clients, payload(request))).rejects.toThrow(
      expect.objectContaining({
        name: InvalidAccountRequest.errorName,
        message: expect.stringMatching(/^organizationalUnit: /),
      }),
    );
    expectNoWrites();
  });
});

describe('a bare OU id passes the schema (an OU name may look like one), and the step does not find the OU', () => {
  test.each(organizationalUnitLookalikes().filter((r) => !malformedOuId(r)))(
    '$name',
    async ({ request }: MalformedRequest) => {
      expect(parseAccountRequest(request).ok).toBe(true);

      await expect(validateRequest(clients, payload(request))).rejects.toBeInstanceOf(
        OrganizationalUnitNotFound,
      );
      expectNoWrites();
    },
  );
});
