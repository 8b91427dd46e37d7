#!/usr/bin/env node
// Launcher for the `merklesync` CLI. The CLI's TypeScript sources run directly on Node 24 (type stripping).
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(`merklesync: Node ${process.versions.node} is too old; Node 24 LTS or newer is required\n`);
  process.exit(2);
}
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
