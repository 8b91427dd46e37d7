import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rolldown } from 'rolldown';
import { afterAll, describe, expect, it } from 'vitest';

// The pure libraries must run in browsers and edge clients. Each scenario is bundled as a browser would load it
// (platform 'browser': package "imports" resolve to the portable backends, not the Node ones), evaluated where
// only web-platform globals exist, and must produce exactly what the same scenario produces natively in Node.
const here = new URL('.', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'merklesync-browser-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bundle(scenario: string): Promise<string> {
  const build = await rolldown({ input: join(here, 'scenarios', `${scenario}.ts`), platform: 'browser', logLevel: 'silent' });
  const { output } = await build.generate({ format: 'esm', codeSplitting: false });
  await build.close();
  const code = output[0].code;
  const file = join(dir, `${scenario}.mjs`);
  writeFileSync(file, code);
  return file;
}

function inSandbox(file: string): string {
  const r = spawnSync(process.execPath, ['--experimental-vm-modules', '--no-warnings', join(here, 'sandbox.mjs'), file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sandbox failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

describe.each(['merkle', 'crypto', 'protocol'])('%s in a browser-like sandbox', (scenario) => {
  it('bundles without Node built-ins and gives the same results as in Node', async () => {
    const file = await bundle(scenario);
    const native = ((await import(`./scenarios/${scenario}.ts`)) as { run(): string }).run();
    const browser = inSandbox(file);
    const nativeJson = JSON.parse(native) as Record<string, unknown>;
    const browserJson = JSON.parse(browser) as Record<string, unknown>;
    if (scenario === 'crypto') {
      // Different primitives, same bytes: node:crypto natively, @noble in the bundle.
      expect(nativeJson['backend']).toBe('node');
      expect(browserJson['backend']).toBe('portable');
      delete nativeJson['backend'];
      delete browserJson['backend'];
    }
    expect(browserJson).toEqual(nativeJson);
    expect(JSON.stringify(browserJson)).not.toMatch(/"(inclusionOk|consistencyOk|roundTrip|checkpointOk)":false/);
  });
});
