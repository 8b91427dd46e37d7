import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Writes this Vitest run's pass/fail/skip counts to tmp/test-counts/, so tools/run-checks.mjs can
 * print one closing line for the whole workspace (Nx runs one Vitest process per project).
 */
export default class CountReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') counts.failed++;
        else counts.skipped++;
      }
      if (mod.state() === 'failed' && !mod.children.size) counts.failed++; // a file that failed to load
    }
    const dir = join(process.cwd(), 'tmp', 'test-counts');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${process.pid}-${Date.now()}.json`), JSON.stringify(counts));
  }
}
