import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { RequestItem } from '../lambda/shared/contracts';
import type { MetadataItem } from '../lambda/shared/metadata';
import { LOCK_SK, WAITER_PREFIX } from '../lambda/shared/semaphore';

/** What the lifecycle commands read from the factory's tables. */

/** Every item of a table (consistent reads, all pages). */
export async function scanAll<T>(doc: DynamoDBDocumentClient, tableName: string): Promise<T[]> {
  const items: T[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
    );
    items.push(...((out.Items ?? []) as T[]));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return items;
}

export function readRequests(doc: DynamoDBDocumentClient, tableName: string): Promise<RequestItem[]> {
  return scanAll<RequestItem>(doc, tableName);
}

export async function readMetadata(doc: DynamoDBDocumentClient, tableName: string): Promise<MetadataItem[]> {
  const items = await scanAll<MetadataItem>(doc, tableName);
  return items.sort(
    (a, b) => a.accountName.localeCompare(b.accountName) || a.accountId.localeCompare(b.accountId),
  );
}

/** One lock of the semaphore table: who holds a slot, who waits. */
export interface LockView {
  lockName: string;
  count: number;
  /** Holders (execution ARNs) and since when, oldest first. */
  holders: { holder: string; since: string }[];
  /** Waiters, first in line first. */
  waiters: { holder: string; queuedAt: string }[];
}

/** Every lock of the semaphore table (the Control Tower lock, and any other, e.g. customizations). */
export async function readLocks(doc: DynamoDBDocumentClient, tableName: string): Promise<LockView[]> {
  const items = await scanAll<Record<string, unknown>>(doc, tableName);
  const locks = new Map<string, LockView>();
  const lock = (name: string) => {
    let view = locks.get(name);
    if (!view) {
      view = { lockName: name, count: 0, holders: [], waiters: [] };
      locks.set(name, view);
    }
    return view;
  };
  for (const item of items) {
    const pk = String(item.pk);
    const sk = String(item.sk);
    if (sk === LOCK_SK) {
      const view = lock(pk);
      view.count = Number(item.count ?? 0);
      for (const [key, value] of Object.entries(item)) {
        // A slot is a map ({ at, grant?, op? }), or a plain string when handed over to a pipeline.
        if (key !== 'pk' && key !== 'sk' && key !== 'count')
          view.holders.push({
            holder: key,
            since: String(value && typeof value === 'object' ? (value as { at?: unknown }).at : value),
          });
      }
      view.holders.sort((a, b) => a.since.localeCompare(b.since));
    } else if (sk.startsWith(WAITER_PREFIX)) {
      lock(pk).waiters.push({ holder: String(item.holder), queuedAt: String(item.queuedAt) });
    }
  }
  for (const view of locks.values()) view.waiters.sort((a, b) => a.queuedAt.localeCompare(b.queuedAt));
  return [...locks.values()].sort((a, b) => a.lockName.localeCompare(b.lockName));
}

/** The execution name of an execution ARN (its last `:` part). */
export function executionNameOf(arn: string): string {
  return arn.slice(arn.lastIndexOf(':') + 1);
}
