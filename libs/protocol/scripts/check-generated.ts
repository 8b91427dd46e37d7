// check-generated: regenerates the protobuf code into a temporary directory and compares it, file by file
// and byte by byte, with the committed libs/protocol/src/gen. Exit 0 when identical; exit 1 with the list of
// differing files and the command that fixes them. Run by `nx run protocol:lint` (and so by CI).
//
// Usage: node libs/protocol/scripts/check-generated.ts
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectDir = fileURLToPath(new URL('..', import.meta.url));
const workspaceBin = join(projectDir, '..', '..', 'node_modules', '.bin');
const committedDir = join(projectDir, 'src', 'gen');

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

function check(outDir: string): number {
  // `--output` re-roots the plugin's `out: src/gen`, so the fresh copy lands in <tmp>/src/gen.
  // buf runs through tools/buf.mjs (its platform package); the local plugin protoc-gen-es comes from node_modules/.bin.
  const env = { ...process.env, PATH: `${workspaceBin}${delimiter}${process.env.PATH ?? ''}` };
  const bufScript = join(projectDir, '..', '..', 'tools', 'buf.mjs');
  const gen = spawnSync(process.execPath, [bufScript, 'generate', '--output', outDir], { cwd: projectDir, env, encoding: 'utf8' });
  if (gen.error !== undefined || gen.status !== 0) {
    console.error(`check-generated: buf generate failed:\n${gen.error?.message ?? ''}${gen.stdout}${gen.stderr}`);
    return 1;
  }
  const freshDir = join(outDir, 'src', 'gen');
  const fresh = listFiles(freshDir);
  const committed = listFiles(committedDir);
  const problems: string[] = [];
  for (const f of fresh) {
    if (!committed.includes(f)) problems.push(`missing:   src/gen/${f}`);
    else if (!readFileSync(join(freshDir, f)).equals(readFileSync(join(committedDir, f)))) problems.push(`differs:   src/gen/${f}`);
  }
  for (const f of committed) if (!fresh.includes(f)) problems.push(`stale:     src/gen/${f}`);
  if (problems.length > 0) {
    console.error(
      'check-generated: libs/protocol/src/gen does not match the .proto files:\n  ' +
        problems.join('\n  ') +
        '\nRegenerate with `npx nx run protocol:generate` (or `npm run -w @merklesync/protocol generate`) and commit the result.',
    );
    return 1;
  }
  console.log(`check-generated: src/gen matches the .proto files (${fresh.length} files)`);
  return 0;
}

const outDir = mkdtempSync(join(tmpdir(), 'protocol-gen-'));
try {
  process.exitCode = check(outDir);
} finally {
  rmSync(outDir, { recursive: true, force: true });
}
