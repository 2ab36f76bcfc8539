import * as fs from 'node:fs';
import * as path from 'node:path';
import { build, type BuildOptions, type Plugin } from 'esbuild';

/**
 * Bundles every Lambda handler into `assets/<handler>/index.js`, the prebuilt code
 * the constructs load with `lambda.Code.fromAsset` (lib/private/assets.ts): a
 * consumer of the package needs neither esbuild nor Docker, and the tests, the
 * local engine's synth and `cdk synth` in this repository use the same files.
 *
 * The handlers are the folders of lambda/ whose index.ts exports `handler`, plus the
 * example provisioning customization. The AWS SDK v3 is left out of the bundles:
 * the Lambda Node.js 22 runtime provides it (see the README, "Lambda bundles").
 *
 *   npm run build:assets   (npx tsx scripts/build-assets.ts [--quiet])
 */

export const REPO_ROOT = path.resolve(__dirname, '..');
export const HANDLERS_ASSET_DIR = path.join(REPO_ROOT, 'assets', 'handlers');

/** Handler id (as HandlerFunction's `handler` and the template metadata name it) -> entry file. */
export function handlerEntries(root: string = REPO_ROOT): Record<string, string> {
  const entries: Record<string, string> = {};
  const lambdaDir = path.join(root, 'lambda');
  for (const name of fs.readdirSync(lambdaDir).sort()) {
    const index = path.join(lambdaDir, name, 'index.ts');
    if (!fs.existsSync(index)) continue;
    if (!/export\s+(const|async function|function)\s+handler\b/.test(fs.readFileSync(index, 'utf8')))
      continue;
    entries[name] = index;
  }
  entries['examples/provisioning-customizations/handler'] = path.join(
    root,
    'examples',
    'provisioning-customizations',
    'handler.ts',
  );
  return entries;
}

/**
 * What the handlers share, bundled once into `vendor/<name>.js` next to them and
 * required from there: zod alone is ~220 KB minified and would otherwise be in every
 * bundle. Each entry lists the packages whose imports it serves.
 *
 * `control-tower-sdk` holds the Control Tower client (3.332, the newest this project
 * can install, older than the SDK the Lambda runtime has) and the 3.329 smithy
 * packages lambda/shared/control-tower.ts builds its extra command on: they are
 * bundled with what they import, so they run the versions they were tested with, but
 * for the default credential chain (RUNTIME_SDK_FOR_VENDOR).
 */
export const VENDOR: Record<string, readonly string[]> = {
  zod: ['zod'],
  'powertools-logger': ['@aws-lambda-powertools/logger'],
  // The X-Ray SDK with it: loaded only where tracing is on (lambda/shared/tracer.ts).
  'powertools-tracer': ['@aws-lambda-powertools/tracer'],
  'control-tower-sdk': [
    '@aws-sdk/client-controltower',
    '@aws-sdk/middleware-endpoint',
    '@aws-sdk/middleware-serde',
    '@aws-sdk/protocol-http',
    '@aws-sdk/smithy-client',
  ],
};

const VENDOR_OF = new Map(Object.entries(VENDOR).flatMap(([name, pkgs]) => pkgs.map((p) => [p, name])));

/**
 * The handler bundles: shared packages required from vendor/, and the runtime's AWS SDK
 * (`@aws-sdk/*`) left out.
 */
function handlerImports(outfile: string, outDir: string): Plugin {
  return {
    name: 'handler-imports',
    setup(b) {
      b.onResolve({ filter: /^[@a-z]/ }, (args) => {
        if (args.importer.split(path.sep).includes('node_modules')) return undefined;
        const vendor = VENDOR_OF.get(args.path);
        if (vendor) {
          const rel = path.relative(path.dirname(outfile), path.join(outDir, 'vendor', `${vendor}.js`));
          return { path: rel.startsWith('.') ? rel : `./${rel}`, external: true };
        }
        if (args.path.startsWith('@aws-sdk/')) return { path: args.path, external: true };
        return undefined;
      });
    },
  };
}

/**
 * zod's classic API carries every locale's error messages (~250 KB); the handlers use
 * the default, English. `z.locales` holds `en` only in the bundle.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${path.sep}zod${path.sep}`)
        ? {
            path: path.join(path.dirname(args.importer), '..', 'locales', 'index.js'),
            namespace: 'zod-locales',
          }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(path.join(path.dirname(args.path), 'en.js'))};`,
      resolveDir: path.dirname(args.path),
    }));
  },
};

/**
 * The Control Tower client's default credential chain (`@aws-sdk/credential-provider-node`,
 * and `@aws-sdk/client-sts` that decorates it with role assumers) comes from the runtime's
 * SDK: the same interface in every v3 version (a function that returns a credentials
 * provider), and bundling the 3.332 copies (an STS client, two SSO clients, an XML parser)
 * would be ~150 KB more in every handler that reaches Control Tower.
 * test/lib/assets.test.ts signs a request with the bundled client to check it.
 */
export const RUNTIME_SDK_FOR_VENDOR = ['@aws-sdk/client-sts', '@aws-sdk/credential-provider-node'];

const runtimeCredentials: Plugin = {
  name: 'runtime-credentials',
  setup(b) {
    b.onResolve({ filter: /^@aws-sdk\// }, (args) =>
      RUNTIME_SDK_FOR_VENDOR.includes(args.path) ? { path: args.path, external: true } : undefined,
    );
  },
};

const COMMON: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  // Class names survive minification: createClient and the local engine key SDK clients on them.
  keepNames: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
};

export function handlerBuildOptions(entry: string, outfile: string, outDir: string): BuildOptions {
  return { ...COMMON, entryPoints: [entry], outfile, plugins: [handlerImports(outfile, outDir)] };
}

export function vendorBuildOptions(name: string, outDir: string): BuildOptions {
  return {
    ...COMMON,
    stdin: {
      contents: VENDOR[name].map((p) => `export * from ${JSON.stringify(p)};`).join('\n'),
      resolveDir: REPO_ROOT,
      loader: 'js',
    },
    outfile: path.join(outDir, 'vendor', `${name}.js`),
    plugins: [zodEnglishOnly, runtimeCredentials],
  };
}

export interface BuiltAsset {
  handler: string;
  file: string;
  bytes: number;
}

/**
 * Builds every handler's bundle into `<outDir>/<handler>/index.js` and the shared
 * code into `<outDir>/vendor/`, replacing what was there. `outDir` is one Lambda
 * asset, shared by every function (one upload).
 */
export async function buildAssets(outDir: string = HANDLERS_ASSET_DIR): Promise<BuiltAsset[]> {
  fs.rmSync(outDir, { recursive: true, force: true });
  const handlers = Object.entries(handlerEntries()).map(async ([handler, entry]) => {
    const file = path.join(outDir, handler, 'index.js');
    await build(handlerBuildOptions(entry, file, outDir));
    return { handler, file, bytes: fs.statSync(file).size };
  });
  const vendor = Object.keys(VENDOR).map(async (name) => {
    const file = path.join(outDir, 'vendor', `${name}.js`);
    await build(vendorBuildOptions(name, outDir));
    return { handler: `vendor/${name}`, file, bytes: fs.statSync(file).size };
  });
  return Promise.all([...handlers, ...vendor]);
}

if (require.main === module) {
  const started = Date.now();
  buildAssets().then(
    (assets) => {
      if (process.argv.includes('--quiet')) return;
      const total = assets.reduce((a, b) => a + b.bytes, 0);
      console.log(
        `${assets.length} Lambda bundles in ${path.relative(process.cwd(), HANDLERS_ASSET_DIR) || '.'}/, ` +
          `${(total / 1024).toFixed(0)} KB, ${Date.now() - started} ms`,
      );
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
