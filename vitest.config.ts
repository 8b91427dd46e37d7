import { defineConfig } from 'vitest/config';

// One Vitest project per Nx project; `vitest run --project <name>` runs one of them.
// Integration suites (real Postgres / JetStream / Kafka) get their own projects in later issues.
// Nest's dependency injection needs legacy decorators with design-type metadata; Vite's oxc transformer
// emits both (no native swc build, which this registry does not serve for every platform).
const nestTransform = { decorator: { legacy: true, emitDecoratorMetadata: true } };

/** A project whose tests may talk to the real Postgres / NATS: longer timeouts, one file at a time. */
function serviceProject(name: string, root: string, include = ['src/**/*.spec.ts', 'test/**/*.spec.ts']) {
  return {
    extends: true as const,
    oxc: nestTransform,
    test: {
      name,
      root,
      include,
      testTimeout: 120_000,
      hookTimeout: 120_000,
      fileParallelism: false,
    },
  };
}

export default defineConfig({
  test: {
    env: { TZ: 'UTC' },
    reporters: ['default', './tools/vitest-count-reporter.ts'],
    projects: [
      {
        test: {
          name: 'merkle',
          root: 'libs/merkle',
          include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'crypto',
          root: 'libs/crypto',
          include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'protocol',
          root: 'libs/protocol',
          include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
          testTimeout: 60_000,
        },
      },
      serviceProject('messaging', 'libs/messaging'),
      serviceProject('store', 'libs/store'),
      serviceProject('sources', 'libs/sources'),
      serviceProject('app-ingest', 'apps/ingest'),
      serviceProject('e2e', 'test/e2e', ['*.spec.ts']),
      serviceProject('app-merkle', 'apps/merkle'),
      serviceProject('app-prover', 'apps/prover'),
      serviceProject('app-gateway', 'apps/gateway'),
      serviceProject('prover-client', 'libs/prover-client'),
      serviceProject('telemetry', 'libs/telemetry'),
      {
        test: {
          name: 'sql-analysis',
          root: 'libs/sql-analysis',
          include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'pgwire',
          root: 'libs/pgwire',
          include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
          testTimeout: 60_000,
        },
      },
      serviceProject('state-capture', 'libs/state-capture'),
      serviceProject('verification-store', 'libs/verification-store'),
      serviceProject('app-proxy', 'apps/proxy'),
      serviceProject('app-replay', 'apps/replay'),
      {
        test: {
          name: 'browser-compat',
          root: 'test/browser',
          include: ['*.spec.ts'],
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'deploy',
          root: 'deploy',
          include: ['test/**/*.spec.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'cli',
          root: 'apps/cli',
          include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
