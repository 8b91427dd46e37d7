import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { Keyring, LocalKeyProvider, fromPgText } from '@merklesync/crypto';
import { MessagingError, MessagingErrorCode, type BatchMessage, type PublishAck } from '@merklesync/messaging';
import type { BatchPosition, ChangeBatch } from '@merklesync/sources';
import { loadIngestConfig } from '../config.ts';
import { IngestPipeline } from './ingest-pipeline.service.ts';
import type { ChangePublisher, ChangeSource, Clock } from './ports.ts';

/** A source fed by the test; `batches()` ends on stop(). */
class FakeSource implements ChangeSource {
  readonly acked: string[] = [];
  readonly #queue: ChangeBatch[] = [];
  #wake: (() => void) | null = null;
  #stopped = false;
  push(b: ChangeBatch): void {
    this.#queue.push(b);
    this.#wake?.();
  }
  start(): Promise<void> {
    return Promise.resolve();
  }
  async *batches(): AsyncGenerator<ChangeBatch> {
    for (;;) {
      if (this.#stopped) return;
      const b = this.#queue.shift();
      if (b) yield b;
      else await new Promise<void>((r) => (this.#wake = r));
    }
  }
  ack(p: BatchPosition): Promise<void> {
    this.acked.push(`${p.commitLsn}#${p.part}`);
    return Promise.resolve();
  }
  stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    return Promise.resolve();
  }
}

class FakePublisher implements ChangePublisher {
  readonly sent: string[] = [];
  failures: MessagingError[] = [];
  gate: Promise<void> = Promise.resolve();
  calls = 0;
  async publishBatch(messages: readonly BatchMessage[]): Promise<PublishAck[]> {
    this.calls++;
    await this.gate;
    const f = this.failures.shift();
    if (f) throw f;
    this.sent.push(...messages.map((m) => m.msgId!));
    return messages.map((_, i) => ({ stream: 'S', seq: i + 1, duplicate: false }));
  }
}

const clock: Clock = { nowMs: () => 1_700_000_000_000, sleep: () => Promise.resolve() };
const config = loadIngestConfig({ INGEST_SOURCE_NAME: 'src', INGEST_PG_URL: 'postgres://h/db', INGEST_KEY_FILE: 'unused', INGEST_KEY_ID: 'k1', INGEST_PUBLISH_ATTEMPTS: '3' });
const keys = new LocalKeyProvider([Keyring.generate('k1')]);

function tx(lsn: string, id: number): ChangeBatch {
  const v = fromPgText('int8', String(id));
  return { kind: 'transaction', xid: id, commitLsn: lsn, endLsn: lsn, commitTimeMicros: 1n, part: 0, last: true, changes: [{ op: 'insert', schema: 'public', table: 't', primaryKey: [v], row: { id: v } }] };
}

async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('IngestPipeline', () => {
  it('acks in order after the PubAcks; retries transient publish failures', async () => {
    const source = new FakeSource();
    const pub = new FakePublisher();
    pub.failures = [new MessagingError(MessagingErrorCode.PublishTimeout, 'slow')];
    const p = new IngestPipeline(config, source, pub, keys, clock);
    await p.onApplicationBootstrap();
    source.push(tx('0/10', 1));
    source.push(tx('0/20', 2));
    await until('two acks', () => source.acked.length === 2);
    expect(source.acked).toEqual(['0/10#0', '0/20#0']);
    expect(pub.sent).toEqual(['src:transaction:0/10:0:public.t', 'src:transaction:0/20:0:public.t']);
    await p.stop();
    expect(await p.done).toBeNull();
  });

  it('stops without acking when the stream refuses a batch', async () => {
    const source = new FakeSource();
    const pub = new FakePublisher();
    pub.failures = [new MessagingError(MessagingErrorCode.PublishRejected, 'too big')];
    const p = new IngestPipeline(config, source, pub, keys, clock);
    await p.onApplicationBootstrap();
    source.push(tx('0/10', 1));
    const outcome = await p.done;
    expect(outcome?.code).toBe('PUBLISH_FAILED');
    expect(source.acked).toEqual([]);
  });

  it('on stop, lets the in-flight publish finish and acks it before stopping the source', async () => {
    const source = new FakeSource();
    const pub = new FakePublisher();
    let release!: () => void;
    pub.gate = new Promise((r) => (release = r));
    const p = new IngestPipeline(config, source, pub, keys, clock);
    await p.onApplicationBootstrap();
    source.push(tx('0/10', 1));
    await until('publish started', () => pub.calls === 1);
    const stopping = p.stop();
    release();
    await stopping;
    expect(source.acked).toEqual(['0/10#0']);
    expect(await p.done).toBeNull();
  });
});
