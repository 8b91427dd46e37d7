// Builds the project's optional Node-API addons (C11, no node-gyp) with the system C compiler:
//   libs/merkle/native/merkle_native.c -> build/merkle_native.node  (SHA-256 suite, libs/merkle/docs/native.md)
//   libs/crypto/native/crypto_native.c -> build/crypto_native.node  (AES-256-GCM sealing, libs/crypto README)
// Runs as the root "postinstall" and "build:native" scripts. It must never fail an install: an addon without a
// C compiler or the Node-API headers gets one line saying so, and its library keeps its portable path.
import { spawnSync } from 'node:child_process';
import console from 'node:console';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

/**
 * @param {{ label: string, source: string, target: string, fallback: string }} addon
 *   label: the line prefix ("merkle native"); source: the .c file; target: the .node file to write;
 *   fallback: what the library uses without it (printed when the build is skipped).
 * @returns {boolean} whether the addon was built
 */
function buildAddon({ label, source, target, fallback }) {
  /** @param {string} reason */
  const skip = (reason) => {
    console.log(`${label}: skipped (${reason}); ${fallback}`);
    return false;
  };
  try {
    if (process.platform === 'win32') return skip('Windows is not supported by this build script');
    const cc = process.env.CC || 'gcc';
    const probe = spawnSync(cc, ['--version'], { stdio: 'ignore' });
    if (probe.error || probe.status !== 0) return skip(`no C compiler "${cc}"`);

    let includeDir = '';
    try {
      includeDir = String(createRequire(import.meta.url)('node-api-headers').include_dir);
    } catch {
      return skip('node-api-headers is not installed');
    }

    mkdirSync(dirname(target), { recursive: true });
    // Build to a temporary name so a failed build never leaves a half-written addon behind.
    const tmp = `${target}.${process.pid}.tmp`;
    const args = [
      '-O3', '-shared', '-fPIC', '-std=c11', '-D_GNU_SOURCE', '-fvisibility=hidden',
      '-Wall', '-Wextra', '-Werror=implicit-function-declaration',
      '-I', includeDir, '-I', join(dirname(fileURLToPath(import.meta.url)), 'native'), '-o', tmp, source,
    ];
    // Node-API (and OpenSSL) symbols come from the node process itself; macOS needs to be told so.
    if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup');
    else args.push('-ldl', '-lpthread', '-lm');
    const r = spawnSync(cc, args, { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      rmSync(tmp, { force: true });
      const first = `${r.stderr ?? ''}`.split('\n').find((l) => l.includes('error')) ?? r.error?.message ?? `exit ${r.status}`;
      return skip(`compile failed: ${first.trim()}`);
    }
    renameSync(tmp, target);
    console.log(`${label}: built ${target}`);
    return true;
  } catch (e) {
    return skip(e instanceof Error ? e.message : String(e));
  }
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
buildAddon({
  label: 'merkle native',
  source: join(root, 'libs/merkle/native/merkle_native.c'),
  target: join(root, 'libs/merkle/native/build/merkle_native.node'),
  fallback: 'the WebAssembly hash suite will be used',
});
buildAddon({
  label: 'crypto native',
  source: join(root, 'libs/crypto/native/crypto_native.c'),
  target: join(root, 'libs/crypto/native/build/crypto_native.node'),
  fallback: 'AES-GCM sealing will use node:crypto',
});
