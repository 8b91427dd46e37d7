// Test isolation on the shared servers: one database per test file (one schema per scenario), one subject
// prefix and set of stream names per scenario, all removed afterwards.
import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createTestDb as createSharedTestDb, type TestDb } from '@merklesync/testkit';
import { loadConfig, type MerkleConfig } from '../../src/config.ts';
import type { Clock, Scheduler } from '../../src/ports.ts';

export const NATS_URL = '127.0.0.1:4222';

export type { TestDb } from '@merklesync/testkit';

/** Creates `ms_test_<random>` (pools of 2); `drop()` ends the pool and drops it (waiting for closing backends). */
export function createTestDb(): Promise<TestDb> {
  return createSharedTestDb({ max: 2, dropTimeoutMs: 15_000 });
}

/** A NATS connection for the test itself, and the stream-name prefix of the file. */
export interface BusScope {
  readonly id: string;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** A fresh (prefix, stream names) set for one scenario, with its changes stream created. */
  scenario(n: string): Promise<{ prefix: string; streams: { changes: string; roots: string; checkpoints: string; dlq: string } }>;
  cleanup(): Promise<void>;
}

export async function openBus(): Promise<BusScope> {
  const id = randomBytes(4).toString('hex');
  const nc = await connect({ servers: NATS_URL, name: `merkle-test-${id}` });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const streamPrefix = `TM${id.toUpperCase()}`;
  return {
    id,
    nc,
    js,
    jsm,
    async scenario(n) {
      const prefix = `tm${id}${n}`;
      const s = `${streamPrefix}_${n.toUpperCase()}`;
      const streams = { changes: `${s}_CHANGES`, roots: `${s}_ROOTS`, checkpoints: `${s}_CHECKPOINTS`, dlq: `${s}_DLQ` };
      // The changes stream is ingest's to provision; the test plays ingest.
      await jsm.streams.add({ name: streams.changes, subjects: [`${prefix}.changes.>`] });
      return { prefix, streams };
    },
    async cleanup() {
      for await (const name of jsm.streams.names()) if (name.startsWith(streamPrefix)) await jsm.streams.delete(name);
      await nc.close();
    },
  };
}

/** A config for one scenario through the real loader (as main.ts would build it). */
export function testConfig(db: TestDb, sc: { prefix: string; streams: { changes: string; roots: string; checkpoints: string; dlq: string } }, env: Record<string, string> = {}): MerkleConfig {
  return loadConfig({
    MERKLE_DATABASE_URL: db.url,
    MERKLE_DB_SCHEMA: `m_${sc.prefix}`,
    MERKLE_NATS_SERVERS: NATS_URL,
    MERKLE_SUBJECT_PREFIX: sc.prefix,
    MERKLE_CHANGES_STREAM: sc.streams.changes,
    MERKLE_ROOTS_STREAM: sc.streams.roots,
    MERKLE_CHECKPOINTS_STREAM: sc.streams.checkpoints,
    MERKLE_DLQ_STREAM: sc.streams.dlq,
    MERKLE_CHECKPOINT_KEY_FILE: '/unused/in/tests',
    MERKLE_LOG_ORIGIN: 'merkle.test/log',
    ...env,
  });
}

/** A clock the test moves. */
export class ManualClock implements Clock {
  t = 1_700_000_000_000;
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** A scheduler whose ticks the test fires. */
export class ManualScheduler implements Scheduler {
  private readonly fns = new Set<() => void>();
  every(_ms: number, fn: () => void): { cancel(): void } {
    this.fns.add(fn);
    return { cancel: () => this.fns.delete(fn) };
  }
  fire(): void {
    for (const f of this.fns) f();
  }
}

/** Polls `check` until it returns something other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
