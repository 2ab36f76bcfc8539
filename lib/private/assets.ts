import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Where the prebuilt Lambda code lives: the one place asset paths are resolved.
 *
 * `npm run build:assets` (scripts/build-assets.ts; `npm test`, `npm start` and
 * `prepack` run it) bundles every handler into `assets/handlers/<handler>/index.js`
 * and what they share into `assets/handlers/vendor/`. The package ships that folder;
 * the constructs load it with `lambda.Code.fromAsset`, from lib/ in this repository
 * and from dist/lib/ once compiled, so a consumer needs neither esbuild nor Docker.
 */

/** The package root: the nearest folder above this file that has a package.json. */
function packageRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cdk-account-factory: no package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

/** The folder every handler Lambda's code comes from (one asset, shared by all of them). */
export function handlersAssetDir(): string {
  return path.join(packageRoot(), 'assets', 'handlers');
}

/**
 * The Lambda `handler` setting for a handler id: `acquire-slot` ->
 * `acquire-slot/index.handler` (the bundle of lambda/acquire-slot/index.ts),
 * `examples/provisioning-customizations/handler` -> that path's `index.handler`.
 * Throws, naming the fix, when the bundle was not built.
 */
export function handlerAsset(handler: string): { readonly dir: string; readonly handler: string } {
  const dir = handlersAssetDir();
  const file = path.join(dir, handler, 'index.js');
  if (!fs.existsSync(file)) {
    throw new Error(
      `cdk-account-factory: the Lambda bundle of handler ${handler} is missing (${file}). ` +
        'In the repository, run `npm run build:assets`; the published package includes it.',
    );
  }
  return { dir, handler: `${handler}/index.handler` };
}
