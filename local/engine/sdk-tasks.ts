import { createClient } from '../../lambda/shared/clients';
import { callIntegration, sdkIntegration } from '../emulator/services';

/**
 * Step Functions' AWS SDK and optimized service integrations
 * (`arn:aws:states:::aws-sdk:<service>:<action>`, `arn:aws:states:::dynamodb:updateItem`,
 * `arn:aws:states:::sns:publish`), served by the real SDK v3 clients, so the calls land
 * in dynalite or the emulated landing zone exactly as the handlers' calls do. Which
 * integrations exist, and how their keys and errors are named, is the emulator's one
 * mapping (`sdkIntegration`, local/emulator/services.ts).
 */
export function isSupportedSdkResource(resource: string): boolean {
  return sdkIntegration(resource) !== undefined;
}

type Client = { send(command: unknown): Promise<unknown> };

export class SdkTasks {
  /** One client per SDK client class, made on first use (as a handler's module would). */
  private readonly clients = new Map<string, Client>();

  async call(resource: string, input: unknown): Promise<unknown> {
    const integration = sdkIntegration(resource);
    if (!integration) throw new Error(`Not a service integration the local engine serves: ${resource}`);
    const { client, commandName } = integration;
    const Command = client.sdk[commandName];
    if (!Command) throw new Error(`The ${client.name} SDK has no ${commandName}`);
    let sdkClient = this.clients.get(client.name);
    if (!sdkClient) {
      sdkClient = createClient(client.sdk[client.name]) as Client;
      this.clients.set(client.name, sdkClient);
    }
    const ready = sdkClient;
    return callIntegration(integration, input, (native) => ready.send(new Command(native)));
  }
}
