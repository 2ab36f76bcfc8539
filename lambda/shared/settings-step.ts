import type { Logger } from '@aws-lambda-powertools/logger';
import { STSClient } from '@aws-sdk/client-sts';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { AssumedCredentials, createClient } from './clients';
import { optionalEnv } from './env';
import { parseInput } from './input';
import { beginInvocation, createLogger } from './logger';
import { managementClientConfig } from './management';
import { createMetadataDocumentClient, MetadataTable, metadataTableFromEnv } from './metadata';
import { withRemainingTime } from './retry';

/**
 * What the account-settings steps (alternate-contacts, opt-in-regions,
 * identity-center-access) set up alike, once per handler module: a logger, the client
 * config of the Control Tower management account (the management role's credentials
 * when MANAGEMENT_ROLE_ARN is set), and the metadata table where each records what the
 * factory made (none without METADATA_TABLE: then nothing is ever removed).
 */
export interface SettingsStep {
  logger: Logger;
  /** Config for the step's management-account clients (`createClient(XClient, step.managementConfig)`). */
  managementConfig: { credentials?: () => Promise<AssumedCredentials>; region?: string };
  /** The metadata table as the environment names it; undefined without METADATA_TABLE. */
  metadata(): MetadataTable | undefined;
  /**
   * The step's Lambda handler, as every other step's: within the invocation's time
   * (withRemainingTime), the Lambda context and the request and account on every log line
   * (beginInvocation), the input parsed at the boundary (InvalidStepInput naming `what`).
   */
  handler<S extends z.ZodType, R>(
    schema: S,
    what: string,
    run: (input: z.output<S>, metadata: MetadataTable | undefined) => Promise<R>,
  ): (event: unknown, context?: Context) => Promise<R>;
}

export interface SettingsStepOptions {
  /**
   * Call the management account in the Control Tower home Region (CONTROL_TOWER_HOME_REGION),
   * where Control Tower set Identity Center up.
   * @default false: the function's Region
   */
  readonly homeRegion?: boolean;
}

export function settingsStep(serviceName: string, options: SettingsStepOptions = {}): SettingsStep {
  const logger = createLogger(serviceName);
  const sts = createClient(STSClient);
  const region = options.homeRegion ? optionalEnv('CONTROL_TOWER_HOME_REGION') : undefined;
  const managementConfig = { ...managementClientConfig(sts), ...(region ? { region } : {}) };
  const doc = createMetadataDocumentClient();
  const metadata = () => (optionalEnv('METADATA_TABLE') ? metadataTableFromEnv(doc) : undefined);
  return {
    logger,
    managementConfig,
    metadata,
    handler: (schema, what, run) =>
      withRemainingTime(async (event: unknown, context?: Context) => {
        beginInvocation(logger, event, context);
        const input = parseInput(schema, event, what);
        return run(input, metadata());
      }),
  };
}
