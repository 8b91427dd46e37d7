// `npm test`: lint, typecheck and every project's tests through Nx, then one closing line with the totals.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const countsDir = join(root, 'tmp', 'test-counts');
rmSync(countsDir, { recursive: true, force: true });

const env = { ...process.env, TZ: 'UTC', NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };

// Integration tests talk to the real PostgreSQL (wal_level=logical) and NATS JetStream: make sure they run.
const services = spawnSync('bash', [join(root, 'test', 'infra', 'services.sh')], { cwd: root, env, stdio: 'inherit' });
if (services.status !== 0) {
  console.error('run-checks: test/infra/services.sh could not prepare PostgreSQL and NATS');
  process.exit(1);
}
const targets = process.argv.slice(2).length ? process.argv.slice(2) : ['lint', 'typecheck', 'test'];
// Nx 23 shares its task cache between checkouts of one workspace on a machine: CI must really run every task.
const cacheFlags = process.env.CI ? ['--skip-nx-cache'] : [];
const nx = spawnSync('npx', ['nx', 'run-many', '-t', ...targets, '--outputStyle=stream', ...cacheFlags], { cwd: root, env, stdio: 'inherit' });

const total = { passed: 0, failed: 0, skipped: 0 };
if (existsSync(countsDir)) {
  for (const f of readdirSync(countsDir)) {
    const c = JSON.parse(readFileSync(join(countsDir, f), 'utf8'));
    total.passed += c.passed;
    total.failed += c.failed;
    total.skipped += c.skipped;
  }
}
const status = nx.status ?? 1;
if (targets.includes('test') && total.passed + total.failed === 0) {
  console.error('run-checks: no test was executed');
  process.exit(1);
}
console.log(`\ntests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(status !== 0 ? status : total.failed > 0 ? 1 : 0);
