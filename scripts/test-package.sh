#!/usr/bin/env bash
# The package as users get it (npm run test:package; .ci/run calls it after npm test):
#  1. build and `npm pack`; check the file list (no tests, no local/ or bench/, a LICENSE, every bundle);
#  2. install the tarball into a scratch CDK app compiled with plain tsc and run with plain node (no tsx,
#     ts-node or esbuild), whose code is the README's library and Deploy examples verbatim; `cdk synth`
#     offline, with a `docker` on the PATH that fails: both must succeed, and a bad AccountRequest must
#     fail naming the field;
#  3. run the installed CLI with plain node: --help, schema, validate on a good and a bad file.
# Everything installs offline from the npm cache `npm ci` filled: no network.
# KEEP_SCRATCH=1 keeps the scratch directory.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/account-factory-package-XXXXXX")"
STARTED=$(date +%s)
cleanup() { if [ "${KEEP_SCRATCH:-}" = 1 ]; then echo "scratch kept: $SCRATCH"; else rm -rf "$SCRATCH"; fi; }
trap cleanup EXIT
step() { echo "test-package: $* ($(($(date +%s) - STARTED)) s)"; }
fail() { echo "test-package: FAILED: $*" >&2; exit 1; }

# The versions the scratch app installs (TOOLCHAIN.md); the CDK ones are the repository's.
CDK_LIB=$(node -p "require('$ROOT/node_modules/aws-cdk-lib/package.json').version")
CONSTRUCTS=$(node -p "require('$ROOT/node_modules/constructs/package.json').version")
CDK_CLI=$(node -p "require('$ROOT/node_modules/aws-cdk/package.json').version")

# 1. The tarball and its file list ----------------------------------------------------------------
step "npm pack (prepack builds the bundles and dist/)"
(cd "$ROOT" && npm pack --silent --pack-destination "$SCRATCH" --json >"$SCRATCH/pack.out")
# prepack's own output comes first: the JSON starts at the first line that is "[".
sed -n '/^\[/,$p' "$SCRATCH/pack.out" >"$SCRATCH/pack.json"
TARBALL="$SCRATCH/$(node -p "require('$SCRATCH/pack.json')[0].filename")"
node - "$SCRATCH/pack.json" "$ROOT" <<'EOF'
const fs = require('node:fs');
const path = require('node:path');
const [pack] = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const root = process.argv[3];
const files = pack.files.map((f) => f.path);
const problems = [];
const forbidden = [
  [/(^|\/)test\//, 'a test folder'],
  [/\.test\.(js|ts|d\.ts)$/, 'a test'],
  [/(^|\/)local\//, 'the local engine'],
  [/(^|\/)bench\//, 'the bench'],
  [/(^|\/)examples\//, 'the examples'],
  [/^\.ci\//, 'CI scripts'],
  [/(^|\/)(tsconfig[^/]*|jest\.config\.js|eslint\.config\.mjs|cdk\.json|\.prettier\w*)$/, 'a config file'],
  [/(?<!\.d)\.ts$/, 'a TypeScript source'],
  [/\.map$/, 'a source map'],
];
for (const f of files) for (const [re, what] of forbidden) if (re.test(f)) problems.push(`${f}: ${what}`);
const required = ['LICENSE', 'README.md', 'package.json', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/bin/account-factory.js'];
// Every handler folder of lambda/ (index.ts exporting handler) must ship its bundle.
for (const name of fs.readdirSync(path.join(root, 'lambda'))) {
  const index = path.join(root, 'lambda', name, 'index.ts');
  if (fs.existsSync(index) && /export\s+(const|async function|function)\s+handler\b/.test(fs.readFileSync(index, 'utf8')))
    required.push(`assets/handlers/${name}/index.js`);
}
for (const f of required) if (!files.includes(f)) problems.push(`${f}: missing`);
if (problems.length) {
  console.error(`the tarball's file list:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
const bundles = pack.files.filter((f) => f.path.startsWith('assets/'));
console.log(
  `  ${pack.filename}: ${(pack.size / 1024).toFixed(0)} KB packed, ${(pack.unpackedSize / 1024).toFixed(0)} KB unpacked, ` +
    `${pack.entryCount} files (${bundles.length} Lambda bundle files, ${(bundles.reduce((a, f) => a + f.size, 0) / 1024).toFixed(0)} KB)`,
);
EOF

# 2. A scratch CDK app: plain tsc, plain node -----------------------------------------------------
APP="$SCRATCH/app"
mkdir -p "$APP/src" "$APP/bad"
cat >"$APP/package.json" <<EOF
{
  "name": "scratch-consumer",
  "private": true,
  "dependencies": {
    "aws-cdk-lib": "$CDK_LIB",
    "cdk-account-factory": "file:../$(basename "$TARBALL")",
    "constructs": "$CONSTRUCTS"
  },
  "devDependencies": {
    "@types/node": "^20",
    "aws-cdk": "$CDK_CLI",
    "typescript": "~5.9.3"
  }
}
EOF
# The tsconfig of `cdk init app --language typescript` (aws-cdk 2.1148), emitting JavaScript for plain node.
cat >"$APP/tsconfig.json" <<'EOF'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "lib": ["es2022"],
    "declaration": true,
    "strict": true,
    "noImplicitReturns": true,
    "experimentalDecorators": true,
    "strictPropertyInitialization": false,
    "skipLibCheck": true,
    "typeRoots": ["./node_modules/@types"],
    "types": ["node"],
    "outDir": "dist"
  },
  "include": ["src", "bad"]
}
EOF
cat >"$APP/cdk.json" <<'EOF'
{ "app": "node dist/src/app.js", "notices": false, "context": { "cli-telemetry": false } }
EOF
# The README's examples, verbatim: the first ```ts block under "## Use it as a library" (as
# test/docs/readme.test.ts reads it), and the one under "## Deploy".
node - "$ROOT/README.md" "$APP" <<'EOF'
const fs = require('node:fs');
const [readme, app] = process.argv.slice(2);
const text = fs.readFileSync(readme, 'utf8');
const example = (heading) => {
  const block = new RegExp(`## ${heading}\\n[\\s\\S]*?\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(text);
  if (!block) throw new Error(`README.md has no \`\`\`ts block under "## ${heading}"`);
  return block[1];
};
const library = example('Use it as a library');
fs.writeFileSync(`${app}/src/app.ts`, library);
fs.writeFileSync(`${app}/src/deploy.ts`, example('Deploy'));
// The library example with a tag key AWS reserves: synth must fail naming the field.
const bad = library.replace(/tags: \{/, "tags: { 'aws:owner': 'x',");
if (bad === library) throw new Error('the README example has no tags to make invalid');
fs.writeFileSync(`${app}/bad/app.ts`, bad);
EOF
# A lockfile from the repository's (npm resolves no range offline: the cache has tarballs, not registry documents).
node "$ROOT/scripts/scratch-lockfile.js" "$ROOT" "$APP" "$SCRATCH/pack.json"
step "npm ci --offline (the scratch app and the tarball)"
(cd "$APP" && npm ci --offline --no-audit --no-fund --loglevel=error >"$SCRATCH/install.log" 2>&1) ||
  { cat "$SCRATCH/install.log" >&2; fail "npm ci --offline"; }
for tool in tsx ts-node esbuild; do
  [ ! -e "$APP/node_modules/$tool" ] || fail "the scratch app has $tool installed: it must run without it"
done
[ ! -e "$APP/node_modules/cdk-account-factory/node_modules/aws-cdk-lib" ] ||
  fail "the package brought its own aws-cdk-lib (it must be a peer dependency)"

step "tsc"
(cd "$APP" && npx --no-install tsc -p .) || fail "the README example does not compile against the package's types"

# A docker that fails: a consumer has neither esbuild nor Docker, and synth must not need them.
mkdir -p "$SCRATCH/no-docker"
printf '#!/bin/sh\necho "docker must not run" >&2\nexit 99\n' >"$SCRATCH/no-docker/docker"
chmod +x "$SCRATCH/no-docker/docker"
export PATH="$SCRATCH/no-docker:$PATH"

step "cdk synth (README example)"
(cd "$APP" && npx --no-install cdk synth --quiet -o cdk.out >"$SCRATCH/synth.log" 2>&1) ||
  { cat "$SCRATCH/synth.log" >&2; fail "cdk synth of the README example"; }
node - "$APP/cdk.out" <<'EOF'
const fs = require('node:fs');
const out = process.argv[2];
const template = JSON.parse(fs.readFileSync(`${out}/Accounts.template.json`, 'utf8'));
const fns = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['cdk-account-factory:handler']);
if (fns.length === 0) throw new Error('no factory function in the template');
for (const fn of fns) {
  const dir = `${out}/${fn.Metadata['aws:asset:path']}`;
  const file = `${dir}/${fn.Properties.Handler.replace(/\.handler$/, '.js')}`;
  if (!fs.existsSync(file)) throw new Error(`${fn.Properties.Handler}: no ${file} in the asset`);
}
console.log(`  ${fns.length} functions, each handler's bundle in its asset`);
EOF

# The Deploy example reads the request files of account-requests/.
mkdir -p "$APP/account-requests"
cat >"$APP/account-requests/alice.yaml" <<'EOF'
accountEmail: sandbox-alice@example.com
accountName: sandbox-alice
organizationalUnit: Sandbox
sso: { email: alice@example.com, firstName: Alice, lastName: Example }
EOF
step "cdk synth (README Deploy example)"
(cd "$APP" && npx --no-install cdk synth --quiet -o cdk.out.deploy --app "node dist/src/deploy.js" >"$SCRATCH/deploy.log" 2>&1) ||
  { cat "$SCRATCH/deploy.log" >&2; fail "cdk synth of the README Deploy example"; }
grep -q 'sandbox-alice@example.com' "$APP/cdk.out.deploy/AccountFactory.template.json" ||
  fail "the Deploy example's stack has no request from account-requests/"

step "cdk synth (a bad AccountRequest)"
if (cd "$APP" && npx --no-install cdk synth --quiet -o cdk.out.bad --app "node dist/bad/app.js" >"$SCRATCH/bad.log" 2>&1); then
  fail "cdk synth of an AccountRequest with tag key aws:owner succeeded"
fi
grep -q 'tags.aws:owner' "$SCRATCH/bad.log" || { cat "$SCRATCH/bad.log" >&2; fail "the failed synth does not name tags.aws:owner"; }
grep -q 'docker must not run' "$SCRATCH/synth.log" "$SCRATCH/deploy.log" "$SCRATCH/bad.log" && fail "synth ran docker"
echo "  failed as it should: $(grep -m1 'tags.aws:owner' "$SCRATCH/bad.log" | sed 's/^ *//' | cut -c1-160)"

# 3. The installed CLI with plain node ----------------------------------------------------------
CLI="$APP/node_modules/cdk-account-factory/dist/bin/account-factory.js"
step "the CLI"
(cd "$APP" && node "$CLI" --help >"$SCRATCH/help.txt") || fail "account-factory --help"
grep -q 'validate' "$SCRATCH/help.txt" || fail "--help does not list validate"
(cd "$APP" && node "$CLI" schema >"$SCRATCH/schema.json") || fail "account-factory schema"
node -e "const s = require('$SCRATCH/schema.json'); if (!s.properties || !s.properties.accountEmail) process.exit(1)" ||
  fail "schema is not the request JSON Schema"
cat >"$APP/bad.json" <<'EOF'
{ "accountEmail": "not-an-email", "accountName": "bad", "organizationalUnit": "Sandbox",
  "sso": { "email": "a@example.com", "firstName": "A", "lastName": "B" } }
EOF
(cd "$APP" && node "$CLI" validate account-requests >"$SCRATCH/good.txt" 2>&1) || { cat "$SCRATCH/good.txt" >&2; fail "validate of a good file"; }
set +e
(cd "$APP" && node "$CLI" validate bad.json >"$SCRATCH/bad.txt" 2>&1)
status=$?
set -e
[ "$status" = 1 ] || { cat "$SCRATCH/bad.txt" >&2; fail "validate of a bad file exited $status, not 1"; }
grep -q '^bad.json: accountEmail: ' "$SCRATCH/bad.txt" || { cat "$SCRATCH/bad.txt" >&2; fail "validate does not name the field"; }
echo "  validate: $(cat "$SCRATCH/good.txt"); bad file, exit 1: $(head -1 "$SCRATCH/bad.txt")"
set +e
(cd "$APP" && node "$CLI" --local status >"$SCRATCH/local.txt" 2>&1)
status=$?
set -e
[ "$status" = 2 ] && grep -q 'not in the npm package' "$SCRATCH/local.txt" ||
  { cat "$SCRATCH/local.txt" >&2; fail "--local from the package does not say where the local engine is"; }

step "passed"
