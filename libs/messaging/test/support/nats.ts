// Test isolation on the shared NATS server: every file gets its own subject prefix and stream names, and
// deletes its streams (and so their consumers) afterwards.
import { randomBytes } from 'node:crypto';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

export const NATS_URL = '127.0.0.1:4222';

export interface TestScope {
  /** Lower-case subject prefix, e.g. `t3f9a1c`. */
  readonly prefix: string;
  /** Upper-case stream-name prefix, e.g. `T3F9A1C`. */
  readonly streamPrefix: string;
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  /** Deletes every stream whose name starts with streamPrefix, then closes the connection. */
  cleanup(): Promise<void>;
}

export async function openScope(): Promise<TestScope> {
  const id = randomBytes(4).toString('hex');
  const nc = await connect({ servers: NATS_URL, name: `messaging-test-${id}` });
  const jsm = await jetstreamManager(nc);
  const streamPrefix = `T${id.toUpperCase()}`;
  return {
    prefix: `t${id}`,
    streamPrefix,
    nc,
    jsm,
    async cleanup() {
      for await (const name of jsm.streams.names()) {
        if (name.startsWith(streamPrefix)) await jsm.streams.delete(name);
      }
      await nc.close();
    },
  };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
