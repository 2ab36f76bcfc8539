import { Logger } from '@aws-lambda-powertools/logger';

/** One logger per handler module, created at module level. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? serviceName });
}
