// Progress of each stage over time, sampled cheaply every few tens of ms: the JetStream changes stream's message
// count (batches ingest has published and had PubAck'd), the store's log size (changes merkle has applied) and
// the latest signed checkpoint's log size. From the timeline: when each stage had all of the workload.
//
// With `checkpointEvents`, checkpoints are taken from the merkle service's checkpoint events as they arrive (each
// adds a sample at that instant), and the store's checkpoint table is read only once a second as a fallback for
// a missed event: the timing is exact instead of rounded up to the next poll, and the harness does not query the
// store on the cores the pipeline runs on more than it must.
import type { JetStreamManager } from '@nats-io/jetstream';
import type { MerkleStore } from '@merklesync/store';
import { sleep } from './process.ts';

export interface StageSample {
  /** performance.now() when the sample completed. */
  readonly t: number;
  /** Messages (change batches) in the changes stream. */
  readonly streamMsgs: number;
  readonly streamBytes: number;
  /** Log size the store holds (applied changes). */
  readonly logSize: number;
  readonly cpSeq: number;
  readonly cpSize: number;
}

/**
 * Subscribes `record` to the merkle service's checkpoint events (sequence and log size of each signed checkpoint,
 * as it is published); returns an unsubscribe.
 */
export type CheckpointEvents = (record: (seq: number, size: number) => void) => () => void;

/** Polls of the store's checkpoint table, with checkpoint events: one in this many samples (the fallback). */
const _STORE_CHECKPOINT_EVERY = 40;

export class StageSampler {
  readonly samples: StageSample[] = [];
  private readonly jsm: JetStreamManager;
  private readonly store: MerkleStore;
  private readonly stream: string;
  private readonly everyMs: number;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly onSample: () => void;
  private readonly events: CheckpointEvents | undefined;
  private unsubscribe: (() => void) | undefined;
  private polls = 0;
  /** The latest sample's values, which a checkpoint event's sample repeats. */
  private last: StageSample = { t: 0, streamMsgs: 0, streamBytes: 0, logSize: 0, cpSeq: -1, cpSize: 0 };

  constructor(jsm: JetStreamManager, store: MerkleStore, stream: string, everyMs: number, onSample: () => void, checkpointEvents?: CheckpointEvents) {
    this.jsm = jsm;
    this.store = store;
    this.stream = stream;
    this.everyMs = everyMs;
    this.onSample = onSample;
    this.events = checkpointEvents;
  }

  /** Takes one sample now (the store's checkpoint table too, unless checkpoint events are due to supply it). */
  async sample(): Promise<StageSample> {
    const readCheckpoint = this.events === undefined || this.polls++ % _STORE_CHECKPOINT_EVERY === 0;
    const [info, head, cp] = await Promise.all([
      this.jsm.streams.info(this.stream),
      this.store.logs.head('global'),
      readCheckpoint ? this.store.checkpoints.latest('global') : undefined,
    ]);
    const newer = cp !== undefined && cp.seq > this.last.cpSeq;
    return this.push({
      t: performance.now(),
      streamMsgs: info.state.messages,
      streamBytes: info.state.bytes,
      logSize: head?.size ?? 0,
      cpSeq: newer ? cp.seq : this.last.cpSeq,
      cpSize: newer ? cp.logSize : this.last.cpSize,
    });
  }

  private push(s: StageSample): StageSample {
    this.last = s;
    this.samples.push(s);
    this.onSample();
    return s;
  }

  start(): void {
    this.unsubscribe = this.events?.((seq, size) => {
      if (!this.stopped && seq > this.last.cpSeq) this.push({ ...this.last, t: performance.now(), cpSeq: seq, cpSize: size });
    });
    this.loop = (async () => {
      while (!this.stopped) {
        await this.sample().catch(() => undefined);
        await sleep(this.everyMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    await this.loop;
  }

  /** First sample time at which `f(sample) >= target`, or undefined. */
  firstReaching(f: (s: StageSample) => number, target: number): StageSample | undefined {
    return this.samples.find((s) => f(s) >= target);
  }
}
