import { installClientHook } from '../../../lambda/shared/clients';
import { LandingZone } from '../../../local/emulator';
import { throttleErrors } from '../../../local/emulator/faults';
import { Organizations } from '../../../local/emulator/organizations';
import { serviceName } from '../../../local/emulator/common';
import {
  callIntegration,
  EMULATED_SERVICES,
  sdkClient,
  sdkIntegration,
} from '../../../local/emulator/services';
import { landingZone, rejection, uninstall } from './fixture';

afterEach(uninstall);

describe('the registry of emulated services', () => {
  test('every registered client is served, with its SDK package and error base', () => {
    const { lz } = landingZone();
    for (const definition of EMULATED_SERVICES) {
      for (const client of definition.clients) {
        expect(typeof client.sdk[client.name]).toBe('function');
        expect(typeof client.sdk[`${serviceName(client.name)}ServiceException`]).toBe('function');
        expect(sdkClient(client.name)).toBe(client);
      }
    }
    expect(lz.service(Organizations).rootId).toBe(lz.rootId);
  });

  test('a service nobody registered is named, with where to register it', () => {
    const { lz } = landingZone();
    class Unregistered {}
    expect(() => lz.service(Unregistered)).toThrow(/Unregistered.*EMULATED_SERVICES/);
  });

  test('throttling errors: the service’s own, else the protocol’s common error', () => {
    expect(throttleErrors('EC2Client')).toEqual(['RequestLimitExceeded']);
    expect(throttleErrors('IAMClient')).toEqual(['Throttling']);
    expect(throttleErrors('ServiceCatalogClient')).toEqual(['ThrottlingException']);
  });

  test('calls reach the landing zone whose hook is installed, also through a hook built on it', () => {
    const { lz } = landingZone();
    expect(LandingZone.installed()).toBe(lz);
    installClientHook({ ...lz.hook(), config: () => ({}) });
    expect(LandingZone.installed()).toBe(lz);
    uninstall();
    expect(LandingZone.installed()).toBeUndefined();
  });
});

describe('one mapping of Step Functions integrations', () => {
  test('error prefixes: PascalCase service names; the optimized DynamoDB integration keeps DynamoDB', () => {
    const prefix = (r: string) => sdkIntegration(r)?.errorPrefix;
    expect(prefix('arn:aws:states:::aws-sdk:sns:publish')).toBe('Sns');
    expect(prefix('arn:aws:states:::aws-sdk:dynamodb:getItem')).toBe('DynamoDb');
    expect(prefix('arn:aws:states:::dynamodb:updateItem')).toBe('DynamoDB');
    expect(prefix('arn:aws:states:::aws-sdk:codepipeline:getPipelineExecution')).toBe('CodePipeline');
    expect(sdkIntegration('arn:aws:states:::aws-sdk:quicksight:listUsers')).toBeUndefined();
  });

  test('camelCase APIs get and return PascalCase keys at every depth', async () => {
    const integration = sdkIntegration('arn:aws:states:::aws-sdk:codepipeline:getPipelineExecution')!;
    let sent: unknown;
    const out = await callIntegration(
      integration,
      { PipelineName: 'p', Nested: [{ InnerKey: 1 }] },
      async (input) => {
        sent = input;
        return { pipelineExecution: { status: 'Succeeded' }, $metadata: {} };
      },
    );
    expect(sent).toEqual({ pipelineName: 'p', nested: [{ innerKey: 1 }] });
    expect(out).toEqual({ PipelineExecution: { Status: 'Succeeded' } });
  });

  test('errors get the Exception suffix the service omits', async () => {
    const { lz } = landingZone();
    const e = await rejection(lz.callAwsService('iam', 'getRole', { RoleName: 'Nope' }));
    expect(e.name).toBe('Iam.NoSuchEntityException');
  });
});
