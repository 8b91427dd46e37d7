// Commit → "proof available at the gateway", measured as an edge client sees it: for one sampled row per
// transaction, GET /v1/blocks/{source}/{table}/{mapKey}?checkpoint=<seq> until the answer carries the row's
// block and a map proof that verifies, whose value is the row's committed leaf commitment, whose table root is
// proven into the state root of a checkpoint whose signature verifies under the log's policy. The latency is
// commit (client side, after COMMIT) → the first such answer received.
//
// Polling stays cheap and bounded: the prober reads GET /v1/checkpoints/latest when a checkpoint event arrives on
// the bus (`onCheckpointEvent`; otherwise every `pollMs`), and on each new checkpoint asks
// only for the rows it can contain — the log appends in commit order, so a checkpoint of size S covers a row only
// if S ≥ (log size before the workload) + (rows committed up to and including its transaction) — with at most
// `concurrency` requests in flight. Rows that do not verify yet stay pending for the next checkpoint.
import {
  commitMapKey,
  commitRow,
  deriveCommitmentKeys,
  deriveTableSecret,
  encodePrimaryKey,
  encodeRow,
  verifyCheckpoint,
  type CheckpointPolicy,
  type CommitmentKeys,
} from '@merklesync/crypto';
import { verifyTableRootProof } from '@merklesync/protocol';
import type { CommittedTx } from './workload.ts';

// Loaded dynamically like the rest of bench/ loads it (bench/impls.ts, bench/map.ts; Nx forbids mixing).
const { equalBytes, fromHex, getHashSuite, proofFromJson, toHex, verifyProof } = await import('@merklesync/merkle');

const _RETRY_MS = 250;

interface _Pending {
  readonly tx: CommittedTx;
  readonly mapKey: Uint8Array;
  readonly leaf: Uint8Array;
  /** The smallest log size that can contain the row. */
  readonly needSize: number;
  /** After a miss: not before this performance.now() unless a new checkpoint appears. */
  retryAt: number;
}

interface _CheckpointJson {
  sequence: number;
  logSize: number;
  stateRoot: string;
  signedNote: string;
}

export interface LatencyOptions {
  readonly gatewayUrl: string;
  readonly source: string;
  readonly table: string;
  readonly master: Uint8Array;
  readonly policy: CheckpointPolicy;
  /** Log size before the workload's first change. */
  readonly baseLogSize: number;
  readonly concurrency: number;
  /** Longest pause between two polls of the latest checkpoint, ms (a checkpoint event ends it early). */
  readonly pollMs: number;
  /**
   * Calls `wake` whenever the merkle service publishes a checkpoint event (the bus subject `<prefix>.checkpoints`),
   * so the prober asks the gateway right then instead of polling it every few ms; returns an unsubscribe.
   */
  readonly onCheckpointEvent?: (wake: () => void) => () => void;
}

export class LatencyProber {
  /** commit → first verified proof, ms, one per sampled transaction (in the order they completed). */
  readonly latenciesMs: number[] = [];
  requests = 0;
  /** Answers that did not (yet) verify: row absent at that checkpoint, an error status, a failed check. */
  misses = 0;
  /** Reasons of misses, counted (a non-zero count of anything but "absent" deserves a look). */
  readonly missReasons = new Map<string, number>();
  private readonly o: LatencyOptions;
  private readonly keys: CommitmentKeys;
  private readonly suite = getHashSuite('sha256');
  private readonly pending: _Pending[] = [];
  private readonly verifiedNotes = new Map<string, { size: number; stateRoot: Uint8Array }>();
  private lastSeq = -1;
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** Resolves the current pause early (a checkpoint event arrived). */
  private wakeUp: (() => void) | undefined;
  private woken = false;

  constructor(o: LatencyOptions) {
    this.o = o;
    this.keys = deriveCommitmentKeys(deriveTableSecret(o.master, o.source, o.table), 'hmac-sha256');
  }

  get outstanding(): number {
    return this.pending.length;
  }

  /** Adds a committed transaction's sample row (called by the writer right after COMMIT). */
  add(tx: CommittedTx): void {
    const id = tx.sample['id'];
    if (id === undefined) throw new Error('sample row has no id column');
    this.pending.push({
      tx,
      mapKey: commitMapKey(this.keys, this.o.table, encodePrimaryKey([id])),
      leaf: commitRow(this.keys, encodeRow(tx.sample)),
      needSize: this.o.baseLogSize + tx.cumulative,
      retryAt: 0,
    });
  }

  start(): void {
    const unsubscribe = this.o.onCheckpointEvent?.(() => {
      this.woken = true;
      this.wakeUp?.();
    });
    this.loop = this.run().finally(() => unsubscribe?.());
  }

  // Waits up to pollMs, less when a checkpoint event arrives (or arrived since the last pause).
  private async pause(): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, this.o.pollMs);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wakeUp = done;
    });
    this.wakeUp = undefined;
    this.woken = false;
  }

  /** Stops polling and waits for the loop to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let cp: _CheckpointJson | undefined;
      try {
        const res = await fetch(`${this.o.gatewayUrl}/v1/checkpoints/latest`);
        if (res.ok) cp = ((await res.json()) as { checkpoint: _CheckpointJson }).checkpoint;
        else await res.body?.cancel();
      } catch {
        // gateway busy or restarting: try again
      }
      if (cp === undefined) {
        await this.pause();
        continue;
      }
      // A new checkpoint: every row it can contain; the same one: only rows whose last try missed a while ago.
      const isNew = cp.sequence > this.lastSeq;
      this.lastSeq = Math.max(this.lastSeq, cp.sequence);
      const now = performance.now();
      const size = cp.logSize;
      const due = this.pending.filter((p) => p.needSize <= size && (isNew || p.retryAt <= now));
      if (due.length === 0) await this.pause();
      else await this.probeAll(due, cp.sequence);
    }
  }

  private async probeAll(due: _Pending[], seq: number): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < due.length && !this.stopped) {
        const p = due[next++]!;
        const why = await this.probe(p, seq);
        if (why === undefined) {
          this.latenciesMs.push(performance.now() - p.tx.committedAt);
          this.pending.splice(this.pending.indexOf(p), 1);
        } else {
          this.misses++;
          p.retryAt = performance.now() + _RETRY_MS;
          this.missReasons.set(why, (this.missReasons.get(why) ?? 0) + 1);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency, due.length) }, worker));
  }

  /** One GET; undefined when the answer is a complete, verified proof of the committed row, else why not. */
  private async probe(p: _Pending, seq: number): Promise<string | undefined> {
    const { gatewayUrl, source, table } = this.o;
    this.requests++;
    let body: {
      block?: { leafCommitment: string };
      proof: unknown;
      tableRootProof: { table: string; tableRoot: string; tableIndex: number; tableCount: number; stateRoot: string; path: string[] };
      checkpoint: _CheckpointJson;
    };
    try {
      const res = await fetch(`${gatewayUrl}/v1/blocks/${encodeURIComponent(source)}/${encodeURIComponent(table)}/${toHex(p.mapKey)}?checkpoint=${seq}`);
      if (!res.ok) {
        await res.body?.cancel();
        return `HTTP ${res.status}`;
      }
      body = (await res.json()) as typeof body;
    } catch (e) {
      return `fetch: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (body.block === undefined) return 'absent at checkpoint';
    if (!equalBytes(fromHex(body.block.leafCommitment), p.leaf)) return 'block is another version';
    const proof = proofFromJson(body.proof);
    if (proof.kind !== 'map-membership') return `proof kind ${proof.kind}`;
    if (!equalBytes(proof.key, p.mapKey) || !equalBytes(proof.value, p.leaf)) return 'proof is for another key/value';
    if (!verifyProof(proof)) return 'map proof does not verify';
    const cp = this.checkpoint(body.checkpoint.signedNote);
    if (cp === undefined) return 'checkpoint signature does not verify';
    if (cp.size < p.needSize) return 'checkpoint too small';
    const t = body.tableRootProof;
    const rootProof = { ...t, tableRoot: fromHex(t.tableRoot), stateRoot: fromHex(t.stateRoot), path: t.path.map((h) => fromHex(h)) };
    if (!verifyTableRootProof(this.suite, rootProof, { stateRoot: cp.stateRoot, source, table, tableRoot: proof.root })) return 'table-root proof does not verify';
    return undefined;
  }

  /** Signature check of a checkpoint note under the policy, once per note. */
  private checkpoint(note: string): { size: number; stateRoot: Uint8Array } | undefined {
    const hit = this.verifiedNotes.get(note);
    if (hit) return hit;
    const v = verifyCheckpoint(note, this.o.policy);
    if (!v.ok || v.checkpoint.stateRoot === undefined) return undefined;
    const cp = { size: v.checkpoint.size, stateRoot: v.checkpoint.stateRoot };
    this.verifiedNotes.set(note, cp);
    return cp;
  }
}
