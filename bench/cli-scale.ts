import { performance } from 'node:perf_hooks';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { readMetadata, readRequests } from '../cli/factory-data';
import { planChanges, type DesiredRequest } from '../cli/plan';
import { selectAccounts } from '../cli/rerun';
import type { RequestItem } from '../lambda/shared/contracts';
import type { MetadataItem } from '../lambda/shared/metadata';
import { parseAccountRequest, requestIdOf } from '../lambda/shared/schema';
import { generateRequests } from '../local/requests';
import { round } from './stats';
import { startCountingDynamoDb } from './dynalite';

/**
 * `plan` and `rerun --ous` at N managed accounts: the requests and metadata tables hold
 * N requests and N managed accounts (in five OUs, tagged), on an in-process DynamoDB;
 * the figures are the wall time of the commands' work after they opened their target
 * (reading the tables, computing the plan or the selection), and the DynamoDB calls it
 * took. Not measured: the CLI process start, and the re-run state machine's run.
 *
 *   npx tsx bench/cli-scale.ts [N]     (default: 5000)
 */

export interface CliScaleFigure {
  accounts: number;
  plan: { wallMs: number; calls: number; changes: number };
  rerunOus: { wallMs: number; calls: number; selected: number };
}

const OUS = ['Sandbox', 'Workloads', 'Security', 'Infrastructure', 'Suspended'];

async function putAll(doc: DynamoDBDocumentClient, table: string, items: Record<string, unknown>[]) {
  for (let i = 0; i < items.length; i += 25) {
    await doc.send(
      new BatchWriteCommand({
        RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
  }
}

export async function measureCliScale(n: number): Promise<CliScaleFigure> {
  const ddb = await startCountingDynamoDb();
  try {
    await ddb.createTable('requests', { pk: 'id' });
    await ddb.createTable('metadata', { pk: 'accountId' });
    const at = '2026-01-05T09:00:00.000Z';
    const desired: DesiredRequest[] = generateRequests(n, 'org').map((input, i) => {
      const parsed = parseAccountRequest({ ...input, organizationalUnit: OUS[i % OUS.length] });
      if (!parsed.ok) throw new Error(`generated request ${i} is invalid`);
      return { requestId: requestIdOf(parsed.request), request: parsed.request };
    });
    const requests: RequestItem[] = desired.map((d) => ({
      id: d.requestId,
      version: 1,
      request: d.request,
      source: 'file:bench',
      updatedAt: at,
    }));
    const metadata: MetadataItem[] = desired.map((d, i) => ({
      accountId: String(200000000000 + i),
      email: d.requestId,
      accountName: d.request.accountName,
      requestId: d.requestId,
      requestVersion: 1,
      request: d.request,
      organizationalUnit: { id: `ou-root-${i % OUS.length}`, name: OUS[i % OUS.length] },
      provisionedProductId: `pp-${i}`,
      status: 'ACTIVE',
      lastOperation: 'CREATE',
      lastExecutionArn: `arn:aws:states:us-east-1:111111111111:execution:Workflow:${i}`,
      lastOutcome: 'SUCCEEDED',
      createdAt: at,
      updatedAt: at,
    }));
    await putAll(ddb.doc, 'requests', requests as never);
    await putAll(ddb.doc, 'metadata', metadata as never);
    // One request edited in its file: the plan finds one change among n.
    desired[0] = { ...desired[0], request: { ...desired[0].request, tags: { owner: 'someone-else' } } };

    let calls = ddb.calls();
    let t0 = performance.now();
    const [items, managed] = await Promise.all([
      readRequests(ddb.doc, 'requests'),
      readMetadata(ddb.doc, 'metadata'),
    ]);
    const plan = planChanges(desired, items, managed);
    const planFigure = {
      wallMs: round(performance.now() - t0, 0),
      calls: ddb.calls() - calls,
      changes: plan.entries.filter((e) => e.kind !== 'unchanged').length,
    };

    calls = ddb.calls();
    t0 = performance.now();
    const selected = selectAccounts(await readMetadata(ddb.doc, 'metadata'), { ous: ['Sandbox'] });
    const rerunFigure = {
      wallMs: round(performance.now() - t0, 0),
      calls: ddb.calls() - calls,
      selected: selected.length,
    };
    return { accounts: n, plan: planFigure, rerunOus: rerunFigure };
  } finally {
    await ddb.close();
  }
}

if (require.main === module) {
  const n = Number(process.argv[2] ?? 5000);
  measureCliScale(n)
    .then((f) => console.log(JSON.stringify(f)))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
