import { ControlTowerClient, ControlTowerServiceException } from '@aws-sdk/client-controltower';
import { getEndpointPlugin } from '@aws-sdk/middleware-endpoint';
import { getSerdePlugin } from '@aws-sdk/middleware-serde';
import { HttpRequest } from '@aws-sdk/protocol-http';
import { Command } from '@aws-sdk/smithy-client';

/**
 * Control Tower's ListEnabledBaselines (the API that tells whether an OU is
 * registered, and an enrolled account's baseline drift) and GetEnabledBaseline, as SDK
 * v3 commands.
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
  /** Exactly one of `IN_SYNC`, `DRIFTED`. */
  inheritanceDriftStatuses?: string[];
}

/** `IN_SYNC | DRIFTED` (API_EnabledBaselineInheritanceDrift). */
export type EnabledBaselineDriftStatus = 'IN_SYNC' | 'DRIFTED';

/** API_EnabledBaselineDriftStatusSummary: only inheritance drift is reported. */
export interface EnabledBaselineDriftStatusSummary {
  types?: { inheritance?: { status?: EnabledBaselineDriftStatus | string } };
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
  driftStatusSummary?: EnabledBaselineDriftStatusSummary;
}

export interface ListEnabledBaselinesOutput {
  enabledBaselines: EnabledBaselineSummary[];
  nextToken?: string;
  $metadata: { httpStatusCode?: number; requestId?: string };
}

export interface EnabledBaselineDetails extends EnabledBaselineSummary {
  parameters?: { key: string; value: unknown }[];
}

export interface GetEnabledBaselineInput {
  enabledBaselineIdentifier: string;
}

export interface GetEnabledBaselineOutput {
  enabledBaselineDetails?: EnabledBaselineDetails;
  $metadata: { httpStatusCode?: number; requestId?: string };
}

type Metadata = { httpStatusCode?: number; requestId?: string };

/**
 * A REST-JSON command of the Control Tower API (`POST <path>` with the input as the JSON
 * body), built as the generated commands of the 3.332 client are.
 */
function restJsonCommand<I extends object, O>(
  commandName: string,
  path: string,
  body: (keyof I)[],
  output: (data: any, $metadata: Metadata) => O,
) {
  const serialize = async (input: I, context: any): Promise<HttpRequest> => {
    const { hostname, protocol = 'https', port, path: basePath } = await context.endpoint();
    const base = basePath?.endsWith('/') ? basePath.slice(0, -1) : (basePath ?? '');
    const json: Record<string, unknown> = {};
    for (const key of body) if (input[key] !== undefined) json[key as string] = input[key];
    return new HttpRequest({
      protocol,
      hostname,
      port,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      path: `${base}${path}`,
      body: JSON.stringify(json),
    });
  };
  const deserialize = async (response: any, context: any): Promise<O> => {
    const $metadata = {
      httpStatusCode: response.statusCode,
      requestId: response.headers['x-amzn-requestid'] ?? response.headers['x-amzn-request-id'],
    };
    const bytes: Uint8Array =
      response.body instanceof Uint8Array
        ? response.body
        : ((await context.streamCollector(response.body)) ?? new Uint8Array());
    const text = context.utf8Encoder(bytes);
    const data = text.length ? JSON.parse(text) : {};
    if (response.statusCode >= 300) {
      const headerKey = Object.keys(response.headers).find((k) => k.toLowerCase() === 'x-amzn-errortype');
      const raw = String(
        (headerKey ? response.headers[headerKey] : undefined) ?? data.code ?? data.__type ?? 'UnknownError',
      );
      const name = raw.split(':')[0].split('#').pop() as string;
      throw new ControlTowerServiceException({
        name,
        $fault: response.statusCode >= 500 ? 'server' : 'client',
        $metadata,
        message: data.message ?? data.Message ?? name,
      });
    }
    return output(data, $metadata);
  };

  /* The old-style smithy Command base class is typed against the 3.329 middleware types: keep the plumbing untyped. */
  const command = class extends (Command as any) {
    static getEndpointParameterInstructions() {
      return {
        UseFIPS: { type: 'builtInParams', name: 'useFipsEndpoint' },
        Endpoint: { type: 'builtInParams', name: 'endpoint' },
        Region: { type: 'builtInParams', name: 'region' },
        UseDualStack: { type: 'builtInParams', name: 'useDualstackEndpoint' },
      };
    }

    constructor(readonly input: I) {
      super();
    }

    resolveMiddleware(clientStack: any, configuration: any, options?: any): any {
      const self = this as any;
      self.middlewareStack.use(getSerdePlugin(configuration, serialize as any, deserialize as any));
      self.middlewareStack.use(
        getEndpointPlugin(configuration, {
          UseFIPS: { type: 'builtInParams', name: 'useFipsEndpoint' },
          Endpoint: { type: 'builtInParams', name: 'endpoint' },
          Region: { type: 'builtInParams', name: 'region' },
          UseDualStack: { type: 'builtInParams', name: 'useDualstackEndpoint' },
        } as any),
      );
      const stack = clientStack.concat(self.middlewareStack);
      const context = {
        logger: configuration.logger,
        clientName: 'ControlTowerClient',
        commandName,
        inputFilterSensitiveLog: (x: unknown) => x,
        outputFilterSensitiveLog: (x: unknown) => x,
      };
      return stack.resolve(
        (request: any) => configuration.requestHandler.handle(request.request, options || {}),
        context,
      );
    }
  };
  // Named as the generated command classes are (middleware and mocks read the name).
  Object.defineProperty(command, 'name', { value: commandName });
  return command;
}

export const ListEnabledBaselinesCommand = restJsonCommand<
  ListEnabledBaselinesInput,
  ListEnabledBaselinesOutput
>(
  'ListEnabledBaselinesCommand',
  '/list-enabled-baselines',
  ['filter', 'includeChildren', 'maxResults', 'nextToken'],
  (data, $metadata) => ({
    enabledBaselines: data.enabledBaselines ?? [],
    nextToken: data.nextToken ?? undefined,
    $metadata,
  }),
);

export const GetEnabledBaselineCommand = restJsonCommand<GetEnabledBaselineInput, GetEnabledBaselineOutput>(
  'GetEnabledBaselineCommand',
  '/get-enabled-baseline',
  ['enabledBaselineIdentifier'],
  (data, $metadata) => ({ enabledBaselineDetails: data.enabledBaselineDetails, $metadata }),
);

/** Sends ListEnabledBaselines through a ControlTowerClient (its middleware, credentials and hooks apply). */
export async function listEnabledBaselines(
  client: ControlTowerClient,
  input: ListEnabledBaselinesInput,
): Promise<ListEnabledBaselinesOutput> {
  const send = client.send.bind(client) as unknown as (c: object) => Promise<ListEnabledBaselinesOutput>;
  return send(new ListEnabledBaselinesCommand(input));
}

/** Sends GetEnabledBaseline through a ControlTowerClient. */
export async function getEnabledBaseline(
  client: ControlTowerClient,
  input: GetEnabledBaselineInput,
): Promise<GetEnabledBaselineOutput> {
  const send = client.send.bind(client) as unknown as (c: object) => Promise<GetEnabledBaselineOutput>;
  return send(new GetEnabledBaselineCommand(input));
}
