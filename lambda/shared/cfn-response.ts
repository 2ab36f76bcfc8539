import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

/**
 * The answer of a Lambda-backed custom resource, sent to CloudFormation's pre-signed
 * ResponseURL (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html).
 */
export interface ResourceResult {
  PhysicalResourceId: string;
  Data?: Record<string, string>;
}

export async function respond(
  event: CloudFormationCustomResourceEvent,
  status: 'SUCCESS' | 'FAILED',
  result: Partial<ResourceResult> & { Reason?: string },
  noEcho = false,
): Promise<void> {
  const body = JSON.stringify({
    Status: status,
    Reason: result.Reason ?? 'See the function log',
    PhysicalResourceId:
      result.PhysicalResourceId ??
      ('PhysicalResourceId' in event ? event.PhysicalResourceId : event.LogicalResourceId),
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    NoEcho: noEcho,
    Data: result.Data,
  });
  const response = await fetch(event.ResponseURL, {
    method: 'PUT',
    headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(body)) },
    body,
  });
  if (!response.ok) throw new Error(`CloudFormation response refused: HTTP ${response.status}`);
}
