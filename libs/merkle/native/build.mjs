// Builds the native SHA-256 suite (merkle_native.c) into build/merkle_native.node.
// Runs as the root "postinstall" and "build:native" scripts. It must never fail an install:
// without a C compiler or the Node-API headers it prints one line and exits 0, and the library
// then uses its WebAssembly suites (see ../docs/native.md).
import { spawnSync } from 'node:child_process';
import console from 'node:console';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'merkle_native.c');
const outDir = join(here, 'build');
const target = join(outDir, 'merkle_native.node');

/** @param {string} reason @returns {never} */
function skip(reason) {
  console.log(`merkle native: skipped (${reason}); the WebAssembly hash suite will be used`);
  process.exit(0);
}

try {
  if (process.platform === 'win32') skip('Windows is not supported by this build script');
  const cc = process.env.CC || 'gcc';
  const probe = spawnSync(cc, ['--version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) skip(`no C compiler "${cc}"`);

  /** @type {string} */
  let includeDir = '';
  try {
    includeDir = String(createRequire(import.meta.url)('node-api-headers').include_dir);
  } catch {
    skip('node-api-headers is not installed');
  }

  mkdirSync(outDir, { recursive: true });
  // Build to a temporary name so a failed build never leaves a half-written addon behind.
  const tmp = `${target}.${process.pid}.tmp`;
  const args = [
    '-O3', '-shared', '-fPIC', '-std=c11', '-D_GNU_SOURCE', '-fvisibility=hidden',
    '-Wall', '-Wextra', '-Werror=implicit-function-declaration',
    '-I', includeDir, '-o', tmp, source,
  ];
  // Node-API symbols come from the node process itself; macOS needs to be told so.
  if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup');
  else args.push('-ldl', '-lpthread', '-lm');
  const r = spawnSync(cc, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    const first = `${r.stderr ?? ''}`.split('\n').find((l) => l.includes('error')) ?? r.error?.message ?? `exit ${r.status}`;
    skip(`compile failed: ${first.trim()}`);
  }
  renameSync(tmp, target);
  console.log(`merkle native: built ${target}`);
} catch (e) {
  skip(e instanceof Error ? e.message : String(e));
}
