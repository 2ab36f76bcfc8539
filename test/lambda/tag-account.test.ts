import {
  ListTagsForResourceCommand,
  OrganizationsClient,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-organizations';
import { mockClient } from 'aws-sdk-client-mock';
import { getMetadata, putMetadata } from '../../lambda/shared/metadata';
import { handler, planTags, tagAccount, TagAccountInputSchema } from '../../lambda/tag-account';
import { ACCOUNT_ID, MetadataFixture, payload, request, startMetadataFixture } from './metadata-fixture';

const orgMock = mockClient(OrganizationsClient);
const organizations = new OrganizationsClient({ region: 'us-east-1' });

/** The account's tags, as the mocked Organizations holds them. */
let tags: Map<string, string>;

beforeEach(() => {
  orgMock.reset();
  tags = new Map();
  orgMock.on(ListTagsForResourceCommand).callsFake(() => ({
    Tags: [...tags].map(([Key, Value]) => ({ Key, Value })),
  }));
  orgMock.on(TagResourceCommand).callsFake((input: { Tags: { Key: string; Value: string }[] }) => {
    for (const t of input.Tags) tags.set(t.Key, t.Value);
    return {};
  });
  orgMock.on(UntagResourceCommand).callsFake((input: { TagKeys: string[] }) => {
    for (const k of input.TagKeys) tags.delete(k);
    return {};
  });
});

const inputFor = (version: number, newTags: Record<string, string>, previous: unknown = null) =>
  TagAccountInputSchema.parse(payload({ version, request: request({ tags: newTags }), previous }));

describe('tag account', () => {
  test('adds, updates and removes the factory tags, and keeps tags someone else set', async () => {
    tags = new Map([
      ['team', 'blue'],
      ['cost-center', '1234'],
      ['owner-set-by-hand', 'ops'],
    ]);
    const previous = request({ tags: { team: 'blue', 'cost-center': '1234' } });

    const result = await tagAccount({ organizations }, inputFor(2, { team: 'red', env: 'dev' }, previous));

    expect(result).toEqual({ added: ['env'], updated: ['team'], removed: ['cost-center'] });
    expect(Object.fromEntries(tags)).toEqual({ team: 'red', env: 'dev', 'owner-set-by-hand': 'ops' });
    expect(orgMock.commandCalls(TagResourceCommand)).toHaveLength(1);
    expect(orgMock.commandCalls(TagResourceCommand)[0].args[0].input.ResourceId).toBe(ACCOUNT_ID);
    expect(orgMock.commandCalls(UntagResourceCommand)[0].args[0].input.TagKeys).toEqual(['cost-center']);
  });

  test('a second run changes nothing', async () => {
    const input = inputFor(1, { team: 'red', env: 'dev' });
    await tagAccount({ organizations }, input);
    orgMock.resetHistory();

    const again = await tagAccount({ organizations }, input);

    expect(again).toEqual({ added: [], updated: [], removed: [] });
    expect(orgMock.commandCalls(TagResourceCommand)).toHaveLength(0);
    expect(orgMock.commandCalls(UntagResourceCommand)).toHaveLength(0);
    expect(Object.fromEntries(tags)).toEqual({ team: 'red', env: 'dev' });
  });

  test('reads every page of the current tags', async () => {
    orgMock
      .on(ListTagsForResourceCommand)
      .resolvesOnce({ Tags: [{ Key: 'a', Value: '1' }], NextToken: 'next' })
      .resolvesOnce({ Tags: [{ Key: 'b', Value: '2' }] });

    const result = await tagAccount({ organizations }, inputFor(2, { a: '1', b: '3' }));

    expect(result).toEqual({ added: [], updated: ['b'], removed: [] });
    expect(orgMock.commandCalls(ListTagsForResourceCommand)[1].args[0].input.NextToken).toBe('next');
  });

  test('an unreadable previous request removes nothing', async () => {
    tags = new Map([['team', 'blue']]);

    const result = await tagAccount({ organizations }, inputFor(2, {}, { tags: 'not an object' }));

    expect(result.removed).toEqual([]);
    expect(tags.get('team')).toBe('blue');
  });

  describe('with the metadata table', () => {
    let fx: MetadataFixture;
    beforeEach(async () => {
      fx = await startMetadataFixture();
    });
    afterEach(async () => {
      await fx.close();
    });

    const store = (version: number, newTags: Record<string, string>) => {
      const p = payload({ version, request: request({ tags: newTags }) });
      const v = p.state.validation!;
      return putMetadata(fx.table, {
        accountId: ACCOUNT_ID,
        email: v.request.accountEmail,
        accountName: v.request.accountName,
        requestId: p.state.requestId,
        requestVersion: version,
        request: v.request,
        organizationalUnit: v.organizationalUnit,
        provisionedProductId: null,
        operation: v.operation,
        executionArn: p.execution.id,
      });
    };

    test('removes a key the factory set in an earlier version, even when the previous request no longer had it', async () => {
      // v1 set `project`; v2 dropped it but failed before tagging; v3 runs with previous = v2.
      await store(1, { project: 'x' });
      await tagAccount({ organizations, metadata: fx.table }, inputFor(1, { project: 'x' }));
      tags.set('manual', 'keep');
      await store(3, {});

      const result = await tagAccount(
        { organizations, metadata: fx.table },
        inputFor(3, {}, request({ tags: {} })),
      );

      expect(result.removed).toEqual(['project']);
      expect(Object.fromEntries(tags)).toEqual({ manual: 'keep' });
      expect((await getMetadata(fx.table, ACCOUNT_ID))?.appliedTagKeys).toEqual([]);
    });

    test('records the keys it applied', async () => {
      await store(1, { b: '2', a: '1' });

      await tagAccount({ organizations, metadata: fx.table }, inputFor(1, { b: '2', a: '1' }));

      expect((await getMetadata(fx.table, ACCOUNT_ID))?.appliedTagKeys).toEqual(['a', 'b']);
    });
  });

  test('handler rejects tags that are not strings', async () => {
    const p = payload();
    (p.state.validation!.request.tags as Record<string, unknown>).team = 1;

    await expect(handler(p)).rejects.toMatchObject({ name: 'InvalidStepInput' });
    expect(orgMock.calls()).toHaveLength(0);
  });
});

describe('planTags', () => {
  test('never removes a key the request still has, nor one that is not on the account', () => {
    const plan = planTags(new Map([['a', '1']]), { a: '1' }, ['a', 'b']);

    expect(plan).toEqual({ added: [], updated: [], removed: [] });
  });
});
