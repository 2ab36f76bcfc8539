/**
 * The command line was wrong (no files, a path that cannot be read, an unknown
 * option): the CLI prints the message and exits with status 2.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Exit statuses of every command. */
export const EXIT_OK = 0;
/** The command ran and found problems (e.g. invalid requests). */
export const EXIT_PROBLEMS = 1;
/** Bad usage. */
export const EXIT_USAGE = 2;

/**
 * What went wrong and how to fix it, in one line, for the errors a user meets when
 * the CLI talks to AWS: no Region, no credentials, credentials that are expired or
 * not allowed, a table or state machine that is not there (another Region or stack),
 * no network. `undefined` for anything else (a bug: the CLI then points at --verbose).
 */
export function explainAwsError(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const name = err.name;
  const message = err.message ?? '';
  const code = (err as { code?: string }).code;
  if (/region is missing/i.test(message)) {
    return "no AWS Region: pass --region <region> (the factory's), or set AWS_REGION or a profile's region";
  }
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return 'no AWS credentials: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run `aws sso login` first';
  }
  if (
    /^(ExpiredToken|ExpiredTokenException|TokenRefreshRequired)$/.test(name) ||
    /token.*expired/i.test(message)
  ) {
    return `the AWS credentials have expired (${message}): refresh them (e.g. \`aws sso login\`) and run again`;
  }
  if (
    /^(InvalidClientTokenId|UnrecognizedClientException|InvalidSignatureException|SignatureDoesNotMatch)$/.test(
      name,
    )
  ) {
    return `AWS does not accept these credentials (${name}): check AWS_PROFILE or the access keys`;
  }
  if (/^(AccessDenied|AccessDeniedException|UnauthorizedOperation)$/.test(name)) {
    return `not allowed: ${message} (use credentials that may read the factory's stack, tables and state machines)`;
  }
  if (name === 'ResourceNotFoundException' || name === 'StateMachineDoesNotExist') {
    return `${message}: is --region the factory's Region, and --stack its stack?`;
  }
  if (code === 'ENOTFOUND' || code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'EAI_AGAIN') {
    return `cannot reach AWS (${message}): check the network, a proxy (HTTPS_PROXY) or --region`;
  }
  return undefined;
}
