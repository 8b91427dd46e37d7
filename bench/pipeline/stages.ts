// Progress of each stage over time, sampled cheaply every few tens of ms: the JetStream changes stream's message
// count (batches ingest has published and had PubAck'd), the store's log size (changes merkle has applied) and
// the latest signed checkpoint's log size. From the timeline: when each stage had all of the workload.
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

export class StageSampler {
  readonly samples: StageSample[] = [];
  private readonly jsm: JetStreamManager;
  private readonly store: MerkleStore;
  private readonly stream: string;
  private readonly everyMs: number;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly onSample: () => void;

  constructor(jsm: JetStreamManager, store: MerkleStore, stream: string, everyMs: number, onSample: () => void) {
    this.jsm = jsm;
    this.store = store;
    this.stream = stream;
    this.everyMs = everyMs;
    this.onSample = onSample;
  }

  /** Takes one sample now. */
  async sample(): Promise<StageSample> {
    const [info, head, cp] = await Promise.all([this.jsm.streams.info(this.stream), this.store.logs.head('global'), this.store.checkpoints.latest('global')]);
    const s = {
      t: performance.now(),
      streamMsgs: info.state.messages,
      streamBytes: info.state.bytes,
      logSize: head?.size ?? 0,
      cpSeq: cp?.seq ?? -1,
      cpSize: cp?.logSize ?? 0,
    };
    this.samples.push(s);
    this.onSample();
    return s;
  }

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        await this.sample().catch(() => undefined);
        await sleep(this.everyMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** First sample time at which `f(sample) >= target`, or undefined. */
  firstReaching(f: (s: StageSample) => number, target: number): StageSample | undefined {
    return this.samples.find((s) => f(s) >= target);
  }
}
