#!/usr/bin/env node
// Runs the buf CLI from its platform package (@bufbuild/buf-<os>-<arch>). The registry this project installs
// from serves only buf's Linux builds, and a lock file with @bufbuild/buf's wrapper then lists optional
// platform packages `npm ci` cannot find; so the project depends on the Linux packages directly.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const arch = process.arch === 'arm64' ? 'aarch64' : process.arch;
const pkg = `@bufbuild/buf-${process.platform}-${arch}`;
let bin;
try {
  bin = join(dirname(require.resolve(`${pkg}/package.json`)), 'bin', 'buf');
} catch {
  console.error(`buf: ${pkg} is not installed; the project ships buf for linux-x64 and linux-aarch64`);
  process.exit(1);
}
const r = spawnSync(bin, process.argv.slice(2), { stdio: 'inherit' });
if (r.error) {
  console.error(`buf: cannot run ${bin}: ${r.error.message}`);
  process.exit(1);
}
process.exit(r.status ?? 1);
