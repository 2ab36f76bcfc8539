import { buildAssets } from '../scripts/build-assets';

/**
 * Builds the Lambda bundles (assets/handlers/) before any suite runs: every
 * synthesized stack loads them as the published package does. About a second.
 */
export default async function globalSetup(): Promise<void> {
  await buildAssets();
}
