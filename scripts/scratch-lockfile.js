// Writes the lockfile of scripts/test-package.sh's scratch app:
//   node scripts/scratch-lockfile.js <repository> <app dir> <npm pack --json output>
// npm needs a registry document to resolve a version range, and `npm ci` caches only tarballs; so
// the scratch app gets the repository's lockfile entries for what it installs, at the same places
// (node resolves them the same way), plus the tarball. `npm ci --offline` then takes every tarball
// from the cache, by integrity.
const fs = require('node:fs');

const [root, app, packJson] = process.argv.slice(2);
const lock = JSON.parse(fs.readFileSync(`${root}/package-lock.json`, 'utf8'));
const own = JSON.parse(fs.readFileSync(`${root}/package.json`, 'utf8'));
const manifest = JSON.parse(fs.readFileSync(`${app}/package.json`, 'utf8'));
const [pack] = JSON.parse(fs.readFileSync(packJson, 'utf8'));
const entries = lock.packages;

/** Where node finds `name` from the package at `from`: its own node_modules, then each parent's. */
function locate(name, from) {
  let dir = from;
  for (;;) {
    const p = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (entries[p]) return p;
    if (!dir) return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
}

const wanted = new Set();
const queue = [];
const add = (p) => {
  if (!wanted.has(p)) {
    wanted.add(p);
    queue.push(p);
  }
};
const roots = [
  ...Object.keys(manifest.dependencies).filter((d) => d !== own.name),
  ...Object.keys(manifest.devDependencies),
  ...Object.keys(own.dependencies),
];
for (const name of roots) {
  const p = locate(name, '');
  if (!p) throw new Error(`${name} is not in the repository's lockfile`);
  add(p);
}
while (queue.length) {
  const p = queue.shift();
  const e = entries[p];
  const deps = { ...e.dependencies, ...e.optionalDependencies, ...e.peerDependencies };
  for (const name of Object.keys(deps)) {
    const at = locate(name, p);
    if (at) add(at);
    else if (!(e.optionalDependencies?.[name] || e.peerDependenciesMeta?.[name]?.optional))
      throw new Error(`${p}: ${name} is not in the repository's lockfile`);
  }
  // What a package bundles comes in its own tarball.
  for (const q of Object.keys(entries)) if (q.startsWith(`${p}/node_modules/`) && entries[q].inBundle) add(q);
}

const packages = {
  '': { name: manifest.name, dependencies: manifest.dependencies, devDependencies: manifest.devDependencies },
};
for (const p of [...wanted].sort()) {
  const { dev, devOptional, peer, ...entry } = entries[p];
  packages[p] = entry;
}
packages[`node_modules/${own.name}`] = {
  version: own.version,
  resolved: manifest.dependencies[own.name],
  integrity: pack.integrity,
  license: own.license,
  dependencies: own.dependencies,
  peerDependencies: own.peerDependencies,
  peerDependenciesMeta: own.peerDependenciesMeta,
  bin: own.bin,
  engines: own.engines,
};
fs.writeFileSync(
  `${app}/package-lock.json`,
  JSON.stringify({ name: manifest.name, lockfileVersion: 3, requires: true, packages }, null, 2),
);
console.log(
  `  lockfile: ${Object.keys(packages).length - 1} packages (the repository's lockfile entries, and the tarball)`,
);
