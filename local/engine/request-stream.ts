import { randomUUID } from 'node:crypto';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { deleteRequestItem, requestKey, writeRequestItem } from '../../lambda/shared/request-item';
import type { LambdaRuntime } from './lambda-runtime';
import type { EngineClock } from './step-functions';

/**
 * The requests table's stream, on this machine. dynalite keeps no streams, so every
 * write goes through here: the item is written by the code the AccountRequest custom
 * resource runs when deployed (lambda/shared/request-item.ts: version bumped and updatedAt
 * set on each write), and the INSERT / MODIFY / REMOVE
 * record DynamoDB Streams would produce is delivered to the request-trigger function,
 * with the event source mapping's retries and its on-failure destination.
 */
export interface StreamFaults {
  /** Deliver every record twice (at-least-once delivery). */
  duplicateDelivery?: boolean;
}

export interface Delivery {
  record: DynamoDBRecord;
  attempts: number;
  ok: boolean;
  sentToFailureDestination: boolean;
}

export interface RequestStreamOptions {
  ddb: DynamoDBClient;
  tableName: string;
  tableArn: string;
  lambda: LambdaRuntime;
  triggerFunction: string;
  clock: EngineClock;
  /** The event source mapping's retry attempts before the record goes to the failure destination. */
  retryAttempts?: number;
  onFailure?: (record: DynamoDBRecord, reason: string) => Promise<void>;
}

let sequence = 0;

export { requestKey };

export class RequestStream {
  readonly deliveries: Delivery[] = [];
  faults: StreamFaults = {};

  constructor(private readonly options: RequestStreamOptions) {}

  /** Writes a request (create or edit) and delivers its stream record. */
  async put(request: unknown, source = 'local'): Promise<{ id: string; version: number }> {
    const { ddb, tableName, clock } = this.options;
    const id = requestKey(request);
    const before = await ddb.send(
      new GetItemCommand({ TableName: tableName, Key: marshall({ id }), ConsistentRead: true }),
    );
    const written = await writeRequestItem(ddb, { tableName, request, source, now: clock.now() });
    const newImage = written.item;
    await this.deliver({
      eventName: before.Item ? 'MODIFY' : 'INSERT',
      keys: { id: { S: id } },
      newImage,
      oldImage: before.Item,
    });
    return { id, version: written.version };
  }

  /** Deletes a request and delivers the REMOVE record. */
  async remove(id: string): Promise<void> {
    const { ddb, tableName } = this.options;
    const oldImage = await deleteRequestItem(ddb, tableName, id);
    if (!oldImage) throw new Error(`No request ${id} in the requests table`);
    await this.deliver({ eventName: 'REMOVE', keys: { id: { S: id } }, oldImage });
  }

  private async deliver(change: {
    eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
    keys: Record<string, any>;
    newImage?: Record<string, any>;
    oldImage?: Record<string, any>;
  }): Promise<void> {
    const record: DynamoDBRecord = {
      eventID: randomUUID(),
      eventName: change.eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: this.options.tableArn + '/stream/local',
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(this.options.clock.now().getTime() / 1000),
        Keys: change.keys,
        NewImage: change.newImage,
        OldImage: change.oldImage,
        SequenceNumber: String(++sequence).padStart(21, '0'),
        SizeBytes: JSON.stringify(change).length,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    };
    await this.deliverRecord(record);
    if (this.faults.duplicateDelivery) await this.deliverRecord(record);
  }

  /** One record through the event source mapping: retried, then sent to the failure destination. */
  private async deliverRecord(record: DynamoDBRecord): Promise<void> {
    const { lambda, triggerFunction, retryAttempts = 10, onFailure } = this.options;
    let attempts = 0;
    let reason = '';
    while (attempts <= retryAttempts) {
      attempts++;
      try {
        const out = (await lambda.invoke(triggerFunction, { Records: [record] })) as {
          batchItemFailures?: { itemIdentifier: string }[];
        } | null;
        if (!out?.batchItemFailures?.length) {
          this.deliveries.push({ record, attempts, ok: true, sentToFailureDestination: false });
          return;
        }
        reason = 'the trigger reported the record as failed';
      } catch (err) {
        reason = `${(err as Error).name}: ${(err as Error).message}`;
      }
    }
    this.deliveries.push({ record, attempts, ok: false, sentToFailureDestination: Boolean(onFailure) });
    if (onFailure) await onFailure(record, reason);
  }
}
