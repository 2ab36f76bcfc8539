import { ControlTowerClient, ControlTowerServiceException } from '@aws-sdk/client-controltower';
import { getEndpointPlugin } from '@aws-sdk/middleware-endpoint';
import { getSerdePlugin } from '@aws-sdk/middleware-serde';
import { HttpRequest } from '@aws-sdk/protocol-http';
import { Command } from '@aws-sdk/smithy-client';

/**
 * Control Tower's ListEnabledBaselines (the API that tells whether an OU is
 * registered), as an SDK v3 command.
 *
 * The newest @aws-sdk/client-controltower the registry serves here (3.332.0)
 * predates the baseline APIs, so this file adds the one command the factory
 * needs, built the way the generated commands of that client are: same
 * client/command names in the handler context (`ControlTowerClient` /
 * `ListEnabledBaselinesCommand`), same REST-JSON wire format
 * (`POST /list-enabled-baselines`), errors surfaced by their AWS name. When
 * the client package gains the command, import it from there instead.
 */

export interface EnabledBaselineFilter {
  targetIdentifiers?: string[];
  baselineIdentifiers?: string[];
  parentIdentifiers?: string[];
  statuses?: string[];
}

export interface ListEnabledBaselinesInput {
  filter?: EnabledBaselineFilter;
  includeChildren?: boolean;
  maxResults?: number;
  nextToken?: string;
}

export interface EnabledBaselineSummary {
  arn: string;
  baselineIdentifier: string;
  baselineVersion?: string;
  targetIdentifier: string;
  parentIdentifier?: string;
  statusSummary: {
    status: 'SUCCEEDED' | 'FAILED' | 'UNDER_CHANGE' | string;
    lastOperationIdentifier?: string;
  };
}

export interface ListEnabledBaselinesOutput {
  enabledBaselines: EnabledBaselineSummary[];
  nextToken?: string;
  $metadata: { httpStatusCode?: number; requestId?: string };
}

/* The old-style smithy Command base class is typed against the 3.329 middleware types: keep the plumbing untyped. */
export class ListEnabledBaselinesCommand extends (Command as any) {
  static getEndpointParameterInstructions() {
    return {
      UseFIPS: { type: 'builtInParams', name: 'useFipsEndpoint' },
      Endpoint: { type: 'builtInParams', name: 'endpoint' },
      Region: { type: 'builtInParams', name: 'region' },
      UseDualStack: { type: 'builtInParams', name: 'useDualstackEndpoint' },
    };
  }

  constructor(readonly input: ListEnabledBaselinesInput) {
    super();
  }

  resolveMiddleware(clientStack: any, configuration: any, options?: any): any {
    const self = this as any;
    self.middlewareStack.use(getSerdePlugin(configuration, serialize, deserialize));
    self.middlewareStack.use(
      getEndpointPlugin(configuration, ListEnabledBaselinesCommand.getEndpointParameterInstructions() as any),
    );
    const stack = clientStack.concat(self.middlewareStack);
    const context = {
      logger: configuration.logger,
      clientName: 'ControlTowerClient',
      commandName: 'ListEnabledBaselinesCommand',
      inputFilterSensitiveLog: (x: unknown) => x,
      outputFilterSensitiveLog: (x: unknown) => x,
    };
    return stack.resolve(
      (request: any) => configuration.requestHandler.handle(request.request, options || {}),
      context,
    );
  }
}

async function serialize(input: ListEnabledBaselinesInput, context: any): Promise<HttpRequest> {
  const { hostname, protocol = 'https', port, path: basePath } = await context.endpoint();
  const base = basePath?.endsWith('/') ? basePath.slice(0, -1) : (basePath ?? '');
  const body: Record<string, unknown> = {};
  for (const key of ['filter', 'includeChildren', 'maxResults', 'nextToken'] as const) {
    if (input[key] !== undefined) body[key] = input[key];
  }
  return new HttpRequest({
    protocol,
    hostname,
    port,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    path: `${base}/list-enabled-baselines`,
    body: JSON.stringify(body),
  });
}

async function deserialize(output: any, context: any): Promise<ListEnabledBaselinesOutput> {
  const $metadata = {
    httpStatusCode: output.statusCode,
    requestId: output.headers['x-amzn-requestid'] ?? output.headers['x-amzn-request-id'],
  };
  const bytes: Uint8Array =
    output.body instanceof Uint8Array
      ? output.body
      : ((await context.streamCollector(output.body)) ?? new Uint8Array());
  const text = context.utf8Encoder(bytes);
  const data = text.length ? JSON.parse(text) : {};
  if (output.statusCode >= 300) {
    const headerKey = Object.keys(output.headers).find((k) => k.toLowerCase() === 'x-amzn-errortype');
    const raw = String(
      (headerKey ? output.headers[headerKey] : undefined) ?? data.code ?? data.__type ?? 'UnknownError',
    );
    const name = raw.split(':')[0].split('#').pop() as string;
    throw new ControlTowerServiceException({
      name,
      $fault: output.statusCode >= 500 ? 'server' : 'client',
      $metadata,
      message: data.message ?? data.Message ?? name,
    });
  }
  return { enabledBaselines: data.enabledBaselines ?? [], nextToken: data.nextToken ?? undefined, $metadata };
}

/** Sends ListEnabledBaselines through a ControlTowerClient (its middleware, credentials and hooks apply). */
export async function listEnabledBaselines(
  client: ControlTowerClient,
  input: ListEnabledBaselinesInput,
): Promise<ListEnabledBaselinesOutput> {
  const send = client.send.bind(client) as unknown as (
    c: ListEnabledBaselinesCommand,
  ) => Promise<ListEnabledBaselinesOutput>;
  return send(new ListEnabledBaselinesCommand(input));
}
