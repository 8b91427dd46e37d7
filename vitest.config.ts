import { defineConfig } from 'vitest/config';

// One Vitest project per Nx project; `vitest run --project <name>` runs one of them.
// Integration suites (real Postgres / JetStream / Kafka) get their own projects in later issues.
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
          name: 'cli',
          root: 'apps/cli',
          include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
