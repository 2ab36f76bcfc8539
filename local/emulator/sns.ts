import * as snsSdk from '@aws-sdk/client-sns';
import type { MessageAttributeValue, PublishCommandInput, PublishCommandOutput } from '@aws-sdk/client-sns';
import { CallContext, CommandTable, Env, errorsFor, Out, Rng } from './common';
import { defineService, type EmulatedService, type SdkClient } from './service';

/**
 * SNS (query protocol). Throttles with ThrottledException, and Throttling, the query
 * protocol's common error (SNS-8):
 * https://docs.aws.amazon.com/sns/latest/api/API_Publish.html#API_Publish_Errors. Denies
 * with AuthorizationError, SDK class AuthorizationErrorException (ID-7).
 */
export const SNS_CLIENT: SdkClient = {
  name: 'SNSClient',
  sdk: snsSdk,
  protocol: 'query',
  throttleErrors: ['ThrottledException', 'Throttling'],
  accessDeniedError: 'AuthorizationErrorException',
  stepFunctions: { service: 'sns', errorPrefix: 'Sns' },
};

const err = errorsFor(SNS_CLIENT);

/** A published message, as the emulator keeps it. */
export interface PublishedMessage {
  messageId: string;
  topicArn: string;
  subject?: string;
  message: string;
  messageAttributes: Record<string, MessageAttributeValue>;
  /** Emulated ISO time. */
  at: string;
  /** The account that published. */
  publisher: string;
}

const MAX_MESSAGE_BYTES = 256 * 1024;

/** SNS Publish: messages are stored, in order, for assertions. */
export class Sns implements EmulatedService {
  private readonly published: PublishedMessage[] = [];
  private readonly rng: Rng;

  constructor(private readonly env: Env) {
    this.rng = env.rng.fork('sns');
  }

  messages(topicArn?: string): PublishedMessage[] {
    return this.published
      .filter((m) => topicArn === undefined || m.topicArn === topicArn)
      .map((m) => ({ ...m }));
  }

  commands(): CommandTable {
    return { PublishCommand: (i: PublishCommandInput, c: CallContext) => this.publish(i, c) };
  }

  publish(i: PublishCommandInput, ctx: CallContext): Out<PublishCommandOutput> {
    const topicArn = i.TopicArn ?? i.TargetArn;
    if (!topicArn)
      throw err(
        'InvalidParameterException',
        'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter',
      );
    const m = /^arn:aws:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,256}(\.fifo)?)$/.exec(topicArn);
    if (!m)
      throw err(
        'InvalidParameterException',
        `Invalid parameter: TopicArn Reason: ${topicArn} is not a valid topic ARN`,
      );
    if (m[1] !== ctx.region) {
      throw err(
        'InvalidParameterException',
        `Invalid parameter: TopicArn Reason: A ARN must be in the client's region (${ctx.region})`,
      );
    }
    if (m[2] !== ctx.principal.accountId) {
      throw err(
        'AuthorizationErrorException',
        `User: ${ctx.principal.arn} is not authorized to perform: SNS:Publish on resource: ${topicArn}`,
      );
    }
    if (i.Message === undefined || i.Message === '') {
      throw err('InvalidParameterException', 'Invalid parameter: Message Reason: Empty message');
    }
    if (Buffer.byteLength(i.Message, 'utf8') > MAX_MESSAGE_BYTES) {
      throw err('InvalidParameterException', 'Invalid parameter: Message too long');
    }
    if (i.Subject !== undefined) {
      // SNS: ASCII, starting with a letter, number or punctuation, no line breaks or control characters, < 100 characters.
      if (!i.Subject.length || i.Subject.length >= 100 || !/^[\x21-\x7e][\x20-\x7e]*$/.test(i.Subject)) {
        throw err('InvalidParameterException', 'Invalid parameter: Subject');
      }
    }
    if (i.MessageStructure !== undefined) {
      if (i.MessageStructure !== 'json')
        throw err('InvalidParameterException', 'Invalid parameter: MessageStructure');
      let parsed: unknown;
      try {
        parsed = JSON.parse(i.Message);
      } catch {
        parsed = undefined;
      }
      if (!parsed || typeof (parsed as { default?: unknown }).default !== 'string') {
        throw err(
          'InvalidParameterException',
          'Invalid parameter: Message Structure - No default entry in JSON message body',
        );
      }
    }
    for (const [name, value] of Object.entries(i.MessageAttributes ?? {})) {
      if (!value.DataType || !/^(String|Number|Binary)(\..+)?$/.test(value.DataType)) {
        throw err(
          'InvalidParameterValueException',
          `The message attribute '${name}' has an invalid message attribute type`,
        );
      }
      const isBinary = value.DataType.startsWith('Binary');
      if (
        isBinary
          ? value.BinaryValue === undefined
          : value.StringValue === undefined || value.StringValue === ''
      ) {
        throw err(
          'InvalidParameterValueException',
          `The message attribute '${name}' must contain non-empty message attribute value`,
        );
      }
      if (value.DataType.startsWith('Number') && !Number.isFinite(Number(value.StringValue))) {
        throw err(
          'InvalidParameterValueException',
          `The message attribute '${name}' has an invalid number value`,
        );
      }
    }
    const messageId = this.rng.uuid();
    this.published.push({
      messageId,
      topicArn,
      subject: i.Subject,
      message: i.Message,
      messageAttributes: { ...(i.MessageAttributes ?? {}) },
      at: this.env.clock.now().toISOString(),
      publisher: ctx.principal.accountId,
    });
    return { MessageId: messageId };
  }
}

export const SNS = defineService({ clients: [SNS_CLIENT], create: (ctx) => new Sns(ctx.env) });
