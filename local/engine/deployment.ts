import type { Topology } from '../../bin/app-config';
import type { CfnTemplate, DeployTarget } from './template';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './template';

export type { Topology } from '../../bin/app-config';

/** The Control Tower management account of the emulated landing zone. */
export const MANAGEMENT_ACCOUNT = LOCAL_ACCOUNT;
/** The vending account the factory runs in, in the delegated topology (AWS's recommendation for AFT). */
export const FACTORY_ACCOUNT = '222222222222';
/** The OU the vending account sits in (AWS recommends a dedicated OU for the AFT management account). */
export const FACTORY_ACCOUNT_OU = 'Infrastructure';

/** What `cdk deploy` would put where: the factory's stack, and the management account's stack if any. */
export interface LocalDeployment {
  readonly topology: Topology;
  readonly homeRegion: string;
  readonly factory: { readonly template: CfnTemplate; readonly target: DeployTarget };
  readonly management?: { readonly template: CfnTemplate; readonly target: DeployTarget };
}

/** A synthesized factory template, with where its app deploys it and its companion stack. */
export interface SynthesizedTemplate extends CfnTemplate {
  readonly localDeployment?: LocalDeployment;
}

/** How a template is deployed locally: as synthesized, or (a bare template) in the management account. */
export function deploymentOf(template: SynthesizedTemplate): LocalDeployment {
  return (
    template.localDeployment ?? {
      topology: 'management',
      homeRegion: LOCAL_REGION,
      factory: { template, target: { account: MANAGEMENT_ACCOUNT, region: LOCAL_REGION } },
    }
  );
}
