// An edge client as a product would write one: it syncs through the gateway's gRPC SyncRequest stream and
// trusts nothing it has not verified itself with the public libraries — the signed checkpoint (libs/crypto),
// each table root's inclusion in the checkpoint's state root (libs/protocol), each page's multiproof against
// that table root (libs/merkle), and each block: it decrypts under its RowBinding with the master key and
// recomputes the leaf commitment and the map key. It keeps a replica of every table and, after each sync,
// recomputes every table's map root from the replica and compares it with the verified table root.
import { create } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import {
  commitMapKey,
  commitRow,
  deriveCommitmentKeys,
  deriveDataKey,
  deriveTableSecret,
  openBlock,
  verifyCheckpoint,
  type CheckpointPolicy,
  type CommitmentKeys,
} from '@merklesync/crypto';
import { SparseMerkleMap, equalBytes, getHashSuite, toHex, verifyProof } from '@merklesync/merkle';
import {
  ProofSchema,
  RowOperation,
  proofFromMessage,
  stateTableName,
  verifyTableRootProof,
  type DiffTreesResponse,
  type LogConsistencyProof,
  type MerkleSyncService,
  type TableRootProof,
} from '@merklesync/protocol';

/** A row of the replica: what the client decrypted and the commitment it verified. */
export interface ReplicaRow {
  readonly rowVersion: bigint;
  readonly plaintext: Uint8Array;
  readonly commitment: Uint8Array;
}

/** The verified checkpoint the client holds. */
export interface HeldCheckpoint {
  readonly seq: number;
  readonly size: number;
  readonly logRoot: Uint8Array;
  readonly stateRoot: Uint8Array;
}

/** What one sync brought, per table (counts of blocks applied and keys proven deleted). */
export interface SyncReport {
  readonly checkpoint: HeldCheckpoint;
  readonly messages: number;
  readonly tables: Map<string, { readonly root: Uint8Array; readonly changed: number; readonly deleted: readonly string[] }>;
}

export interface EdgeClientOptions {
  readonly grpc: Client<typeof MerkleSyncService>;
  readonly policy: CheckpointPolicy;
  readonly source: string;
  readonly tables: readonly string[];
  readonly masterKey: Uint8Array;
  readonly keyId: string;
  readonly keyVersion: number;
  /**
   * The primary-key encoding of the row behind a map key (hex). Map keys hide primary keys, so a client that
   * decrypts must know which rows it is owed; the test answers from its SELECT * of the source.
   */
  readonly primaryKeyOf: (table: string, mapKey: string) => Uint8Array | undefined;
}

const suite = getHashSuite('sha256');

function fail(why: string): never {
  throw new Error(`edge client: ${why}`);
}

export class EdgeClient {
  readonly replica = new Map<string, Map<string, ReplicaRow>>();
  held: HeldCheckpoint | undefined;
  private readonly opts: EdgeClientOptions;
  private readonly keys = new Map<string, { commit: CommitmentKeys; data: Uint8Array }>();
  private readonly byStateName = new Map<string, string>();

  constructor(opts: EdgeClientOptions) {
    this.opts = opts;
    for (const table of opts.tables) {
      const secret = deriveTableSecret(opts.masterKey, opts.source, table);
      this.keys.set(table, { commit: deriveCommitmentKeys(secret, 'hmac-sha256'), data: deriveDataKey(secret) });
      this.byStateName.set(stateTableName(opts.source, table), table);
      this.replica.set(table, new Map());
    }
  }

  /**
   * One SyncRequest from the held checkpoint (or nothing) to the latest, every part verified before the replica
   * changes; throws naming the first thing that does not verify.
   */
  async sync(): Promise<SyncReport> {
    const held = this.held;
    const pending: DiffTreesResponse[] = [];
    const roots: { table: string; proof: TableRootProof; diffs: DiffTreesResponse[] }[] = [];
    let complete: { note: Uint8Array; consistency: LogConsistencyProof | undefined } | undefined;
    let messages = 0;
    for await (const m of this.opts.grpc.syncRequest({ sinceSequence: BigInt(held?.seq ?? 0), currentRoot: held?.stateRoot ?? new Uint8Array(0) })) {
      messages++;
      if (complete) fail('a message after sync_complete');
      switch (m.message.case) {
        case 'diff':
          pending.push(m.message.value);
          break;
        case 'tableRoot': {
          const table = this.byStateName.get(m.message.value.table) ?? fail(`table root of an unknown table ${m.message.value.table}`);
          if (roots.some((r) => r.table === table)) fail(`two table roots for ${table}`);
          // The diffs of a table come right before its table root.
          roots.push({ table, proof: m.message.value, diffs: pending.splice(0) });
          break;
        }
        case 'syncComplete': {
          const cp = m.message.value.checkpoint ?? fail('sync_complete without a checkpoint');
          complete = { note: cp.signedNote, consistency: m.message.value.consistency };
          break;
        }
        case 'blockUpdate':
        case undefined:
          fail(`unexpected message ${String(m.message.case)}`);
      }
    }
    if (!complete) fail('the stream ended without sync_complete');
    if (pending.length > 0) fail(`${pending.length} diffs after the last table root`);

    // (a) the checkpoint: its signature under the client's policy; only the verified body counts from here on.
    const v = verifyCheckpoint(complete.note, this.opts.policy);
    if (!v.ok) fail(`checkpoint does not verify: ${v.code} ${v.reason}`);
    const body = v.checkpoint;
    if (body.stateRoot === undefined || body.seq === undefined) fail('checkpoint without a state root');
    const target: HeldCheckpoint = { seq: body.seq, size: body.size, logRoot: body.rootHash, stateRoot: body.stateRoot };
    if (held) {
      if (target.seq < held.seq || target.size < held.size) fail(`checkpoint ${target.seq} goes back from ${held.seq}`);
      if (target.size > held.size) {
        const c = complete.consistency ?? fail('no consistency proof from the held checkpoint');
        const p = proofFromMessage(create(ProofSchema, { proof: { case: 'logConsistency', value: c } }));
        if (p.kind !== 'log-consistency' || !verifyProof(p)) fail('log consistency proof does not verify');
        if (p.size1 !== held.size || !equalBytes(p.root1, held.logRoot) || p.size2 !== target.size || !equalBytes(p.root2, target.logRoot)) {
          fail('log consistency proof is not between the held and the new checkpoint');
        }
      } else if (!equalBytes(target.logRoot, held.logRoot)) fail('same log size, another log root');
    }

    // Check everything first, then apply: a client must not half-apply a sync that fails to verify.
    const updates: { table: string; key: string; row: ReplicaRow | undefined }[] = [];
    const tables = new Map<string, { root: Uint8Array; changed: number; deleted: string[] }>();
    for (const { table, proof, diffs } of roots) {
      // (b) the table root is in the verified state root
      if (!verifyTableRootProof(suite, proof, { stateRoot: target.stateRoot, source: this.opts.source, table })) fail(`table root proof of ${table} does not verify`);
      const root = proof.tableRoot;
      const keys = this.keys.get(table)!;
      const seen = new Set<string>();
      const report = { root, changed: 0, deleted: [] as string[] };
      for (const d of diffs) {
        const mp = proofFromMessage(create(ProofSchema, { proof: { case: 'mapMulti', value: d.proof ?? fail(`a diff of ${table} without a proof`) } }));
        if (mp.kind !== 'map-multi' || !verifyProof(mp)) fail(`multiproof of ${table} does not verify`);
        if (!equalBytes(mp.root, root)) fail(`multiproof of ${table} is not against its table root`);
        const proven = new Map(mp.entries.map((e) => [toHex(e.key), e.value]));
        if (proven.size !== mp.entries.length || proven.size !== d.changedBlocks.length + d.deletedKeys.length) fail(`multiproof of ${table} does not cover exactly its page`);
        for (const b of d.changedBlocks) {
          const key = toHex(b.mapKey);
          if (seen.has(key)) fail(`${table} ${key} twice in one sync`);
          seen.add(key);
          if (b.source !== this.opts.source || b.table !== table) fail(`block of ${b.source}/${b.table} in ${table}'s diff`);
          if (b.op === RowOperation.DELETE) fail(`${table} ${key}: a delete among the changed blocks`);
          const value = proven.get(key) ?? fail(`${table} ${key}: not proven present`);
          if (!equalBytes(value, b.leafCommitment)) fail(`${table} ${key}: leaf commitment is not the proven one`);
          if (b.block.length === 0) fail(`${table} ${key}: no ciphertext (the row changed after the checkpoint)`);
          const pk = this.opts.primaryKeyOf(table, key) ?? fail(`${table} ${key}: a row the source does not have`);
          if (!equalBytes(commitMapKey(keys.commit, table, pk), b.mapKey)) fail(`${table} ${key}: map key is not the primary key's`);
          const binding = { source: this.opts.source, table, primaryKey: pk, rowVersion: b.rowVersion };
          const plaintext = openBlock(b.block, binding, (kid, version) => (kid === this.opts.keyId && version === this.opts.keyVersion ? keys.data : undefined));
          const commitment = commitRow(keys.commit, plaintext);
          if (!equalBytes(commitment, value)) fail(`${table} ${key}: decrypted row does not match its commitment`);
          updates.push({ table, key, row: { rowVersion: b.rowVersion, plaintext, commitment } });
          report.changed++;
        }
        for (const k of d.deletedKeys) {
          const key = toHex(k);
          if (seen.has(key)) fail(`${table} ${key} twice in one sync`);
          seen.add(key);
          if (!proven.has(key) || proven.get(key) !== null) fail(`${table} ${key}: deleted but not proven absent`);
          updates.push({ table, key, row: undefined });
          report.deleted.push(key);
        }
      }
      tables.set(table, report);
    }
    for (const t of this.opts.tables) if (!tables.has(t)) fail(`no table root for ${t}`);

    for (const u of updates) {
      const rows = this.replica.get(u.table)!;
      if (u.row) rows.set(u.key, u.row);
      else rows.delete(u.key);
    }
    // The replica is exactly the table the checkpoint commits to.
    for (const [table, r] of tables) {
      const map = new SparseMerkleMap({ suite });
      const ops = [...this.replica.get(table)!].map(([key, row]) => ({ key: Buffer.from(key, 'hex'), value: row.commitment }));
      const mine = map.update(map.emptyRoot, ops);
      if (!equalBytes(mine, r.root)) fail(`replica of ${table} has root ${toHex(mine)}, the checkpoint ${toHex(r.root)}`);
    }
    this.held = target;
    return { checkpoint: target, messages, tables };
  }
}
