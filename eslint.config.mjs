import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Libraries that must never reach a `type:util` project: those run in browsers and edge clients too.
const SERVER_ONLY = [
  '@nestjs/*', 'nats', '@nats-io/*', '@opentelemetry/*', 'pg', 'pg-*', 'postgres', 'kafkajs',
  '@confluentinc/*', 'mongodb', 'reflect-metadata', 'rxjs', 'express', 'fastify',
];

export default tseslint.config(
  // Generated code (libs/protocol/src/gen) is checked by regenerating it, not by lint.
  { ignores: ['**/node_modules/**', '**/dist/**', '**/build/**', '.nx/**', 'coverage/**', 'libs/*/src/gen/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: { allowDefaultProject: ['*.mjs', '*.ts', 'tools/*.mjs', 'apps/*/bin/*.mjs', 'test/*/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          // Package-internal subpath imports (package.json "imports"), chosen per platform by conditions.
          allow: ['#hash-backend', '#crypto-backend'],
          banTransitiveDependencies: true,
          checkDynamicDependenciesExceptions: [],
          depConstraints: [
            // Layers: apps on top; util at the bottom; no wildcards.
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:util'] },
            { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:util'] },
            { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:util'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'], bannedExternalImports: SERVER_ONLY },
            // Scopes: shared code is reachable from every scope; a scope reaches only itself and shared.
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:shared', 'scope:cli'] },
            { sourceTag: 'scope:ingest', onlyDependOnLibsWithTags: ['scope:shared', 'scope:ingest'] },
            { sourceTag: 'scope:merkle', onlyDependOnLibsWithTags: ['scope:shared', 'scope:merkle'] },
            { sourceTag: 'scope:prover', onlyDependOnLibsWithTags: ['scope:shared', 'scope:prover'] },
            { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:shared', 'scope:gateway'] },
            { sourceTag: 'scope:proxy', onlyDependOnLibsWithTags: ['scope:shared', 'scope:proxy'] },
            { sourceTag: 'scope:replay', onlyDependOnLibsWithTags: ['scope:shared', 'scope:replay'] },
            { sourceTag: 'scope:bench', onlyDependOnLibsWithTags: ['scope:shared', 'scope:bench'] },
            { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['scope:tools'] },
            { sourceTag: 'scope:test', onlyDependOnLibsWithTags: ['scope:shared', 'scope:test'] },
            { sourceTag: 'scope:deploy', onlyDependOnLibsWithTags: ['scope:deploy'] },
          ],
        },
      ],
    },
  },
  {
    // Pure libraries run in browsers: no Node built-ins, except the Node-only hash backend that the
    // package's "imports" conditions select for Node alone.
    files: ['libs/merkle/src/**/*.ts', 'libs/crypto/src/**/*.ts', 'libs/protocol/src/**/*.ts', 'libs/config/src/**/*.ts'],
    ignores: [
      'libs/merkle/src/hash/backend.node.ts',
      'libs/merkle/src/hash/native.ts',
      'libs/crypto/src/backend/node.ts',
      'libs/crypto/src/backend/native.ts',
      'libs/*/src/**/*.spec.ts',
    ],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], message: 'Pure libraries: no Node built-ins outside their Node-only backend file.' }] }],
      'no-restricted-globals': ['error', { name: 'process', message: 'Pure libraries read no environment.' }, { name: 'Buffer', message: 'Use Uint8Array.' }],
    },
  },
  {
    files: ['**/*.spec.ts', 'bench/**/*.ts', '**/*.mjs'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
