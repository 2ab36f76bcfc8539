import { AccountManagementTrustedAccessDisabled } from './errors';

/**
 * Account Management answers a call for a member account of an organization that has not
 * enabled trusted access for it with AccessDeniedException "... is not authorized to
 * perform: account:<Action> (Your organization must first enable trusted access with AWS
 * Account Management.)" (docs/aws-behaviour.md ACCT-2). That one becomes the named
 * AccountManagementTrustedAccessDisabled; any other error is left as it is.
 */
export function trustedAccessError(err: unknown): Error | undefined {
  const e = err as { name?: string; message?: string } | undefined;
  if (e?.name === 'AccessDeniedException' && /trusted access/i.test(e.message ?? '')) {
    return new AccountManagementTrustedAccessDisabled(
      'The organization has not enabled trusted access for AWS Account Management: enable it from the ' +
        'management account (aws organizations enable-aws-service-access --service-principal account.amazonaws.com, ' +
        `or the Organizations console) and run the request again. AWS said: ${e.message}`,
    );
  }
  return undefined;
}

/** Runs an Account Management call; a missing trusted access becomes AccountManagementTrustedAccessDisabled. */
export async function withTrustedAccess<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw trustedAccessError(err) ?? err;
  }
}
