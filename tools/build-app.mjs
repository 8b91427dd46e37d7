#!/usr/bin/env node
// `node tools/build-app.mjs <app>`: bundles apps/<app>/src/main.ts and the workspace libraries it imports into
// dist/apps/<app>/main.js, runnable as `node dist/apps/<app>/main.js`. Services need a build because Nest's
// decorators (with design-type metadata) are not erasable TypeScript; Vite's oxc transform, which the tests use
// too, compiles them. npm packages stay external (Nest loads optional packages lazily), so the bundle runs
// inside this checkout (or an image with the same node_modules).
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const app = process.argv[2];
const entry = app && join(root, 'apps', app, 'src', 'main.ts');
if (!app || !existsSync(entry)) {
  console.error(`build-app: usage: node tools/build-app.mjs <app> (no apps/${app ?? '?'}/src/main.ts)`);
  process.exit(2);
}

// Bundle relative files, package-internal '#…' imports, our own workspace packages and the transform's decorator
// helpers; leave npm packages out.
const BUNDLED = ['@merklesync/', '@oxc-project/runtime'];
const isExternal = (id) => !(id.startsWith('.') || id.startsWith('/') || id.startsWith('#') || id.startsWith('\0') || BUNDLED.some((p) => id.startsWith(p)));

const outDir = join(root, 'dist', 'apps', app);
mkdirSync(outDir, { recursive: true });
const bundle = await rolldown({
  input: entry,
  platform: 'node',
  external: isExternal,
  // Decorator settings (legacy + emitDecoratorMetadata) come from each project's tsconfig.json.
  logLevel: 'warn',
});
await bundle.write({ dir: outDir, format: 'esm', entryFileNames: 'main.js', sourcemap: true, codeSplitting: false });
await bundle.close();
console.log(`build-app: dist/apps/${app}/main.js`);
