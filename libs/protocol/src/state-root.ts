import { DATABASE_TREE_TAGS, LogTree, compareBytes, concatBytes, databaseRoot, equalBytes, type HashSuite } from '@merklesync/merkle';
import { subjectToken } from './subjects.ts';

/** One table's current authenticated-map root, as the merkle service keeps it. */
export interface TableState {
  readonly source: string;
  readonly table: string;
  /** The table's SparseMerkleMap root (32 bytes). */
  readonly root: Uint8Array;
}

/**
 * The name a table has inside the state root: `<token(source)>.<token(table)>`, with the subject-token escaping
 * of this library, so no two (source, table) pairs share a name.
 * @example stateTableName('pg main', 'public.users') // 'pg~20main.public~2Eusers'
 */
export function stateTableName(source: string, table: string): string {
  return `${subjectToken(source)}.${subjectToken(table)}`;
}

/**
 * The state root a checkpoint commits to: libs/merkle's databaseRoot over (stateTableName, table map root),
 * ordered by name. The merkle service computes it; edge clients recompute it from table roots.
 * @throws RangeError when two entries name the same (source, table); as subjectToken for invalid names.
 * @example stateRoot(getHashSuite('sha256'), [{ source: 'pg', table: 'public.users', root }])
 */
export function stateRoot(suite: HashSuite, tables: Iterable<TableState>): Uint8Array {
  const entries = [];
  for (const t of tables) entries.push({ name: stateTableName(t.source, t.table), root: t.root });
  return databaseRoot(suite, entries);
}

// ---------------------------------------------------------------------------------------------------------
// Table-root proofs: a table's map root is leaf `index` of the RFC 9162-shaped database tree (tags 0x30 leaf,
// 0x31 node) whose root is the state root. The proof is that leaf's audit path (RFC 9162 §2.1.3), leaf side
// first, so a client holding a signed checkpoint (state root) checks one table root with ≈ log2(tables) hashes.

/** A table root's inclusion in a state root (the fields of the protobuf `TableRootProof`, as plain values). */
export interface TableRootInclusion {
  /** The table's name in the state tree: {@link stateTableName}(source, table). */
  readonly table: string;
  /** The table's map root (hash-suite length). */
  readonly tableRoot: Uint8Array;
  /** Position of the table among the names sorted by UTF-8 bytes; < tableCount. */
  readonly tableIndex: number;
  /** Number of tables in the state tree (≥ 1). */
  readonly tableCount: number;
  /** The state root the path leads to. */
  readonly stateRoot: Uint8Array;
  /** RFC 9162 audit path, leaf side first. */
  readonly path: Uint8Array[];
}

/**
 * What {@link checkTableRootProof} reads: the protobuf `TableRootProof` message fits (uint64 fields as bigint),
 * as does a {@link TableRootInclusion}.
 */
export interface TableRootProofLike {
  readonly table: string;
  readonly tableRoot: Uint8Array;
  readonly tableIndex: number | bigint;
  readonly tableCount: number | bigint;
  readonly stateRoot: Uint8Array;
  readonly path: readonly Uint8Array[];
}

/** Why a table-root proof was rejected. A const object, not a TS enum. */
export const TableRootProofFailure = {
  /** Not a proof at all: wrong types, hash lengths, index ≥ count, a name with no UTF-8 form, too long a path. */
  Malformed: 'MALFORMED',
  /** The proof is about another table than the one expected. */
  WrongTable: 'WRONG_TABLE',
  /** The proof's state root is not the expected (signed) one. */
  WrongStateRoot: 'WRONG_STATE_ROOT',
  /** The proof's table root is not the expected one. */
  WrongTableRoot: 'WRONG_TABLE_ROOT',
  /** The audit path does not lead from (name, table root) to the state root. */
  PathMismatch: 'PATH_MISMATCH',
} as const;
export type TableRootProofFailure = (typeof TableRootProofFailure)[keyof typeof TableRootProofFailure];

/** Outcome of {@link checkTableRootProof}: never an exception. */
export type TableRootProofCheck = { readonly ok: true } | { readonly ok: false; readonly failure: TableRootProofFailure; readonly reason: string };

/** What the caller expects the proof to show; every field given is compared. */
export interface TableRootExpectation {
  /** The state root of a checkpoint the caller verified: without it the proof only shows self-consistency. */
  readonly stateRoot?: Uint8Array;
  /** The table asked for (compared by {@link stateTableName}). Give both or neither. */
  readonly source?: string;
  readonly table?: string;
  /** The map root the caller's map proof is against. */
  readonly tableRoot?: Uint8Array;
}

const _utf8 = new TextEncoder();
// A lone surrogate has no UTF-8 form; TextEncoder would silently map it to U+FFFD (databaseRoot refuses it too).
const _LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** A path longer than this cannot belong to any tree of < 2^64 leaves. */
const _MAX_PATH = 64;

function _leafData(name: Uint8Array, root: Uint8Array): Uint8Array {
  const data = new Uint8Array(4 + name.length + root.length);
  new DataView(data.buffer).setUint32(0, name.length);
  data.set(name, 4);
  data.set(root, 4 + name.length);
  return data;
}

/**
 * Proves `(source, table)`'s root inside the state root of `tables` (the same tree as {@link stateRoot}, so
 * `result.stateRoot` equals `stateRoot(suite, tables)`).
 * @returns undefined when the table is not among `tables`.
 * @throws RangeError when two entries name the same table or a root has the wrong length; as
 *   {@link stateTableName} for invalid names.
 * @example
 * const p = proveTableRoot(suite, roots, 'pg', 'public.users');
 * checkTableRootProof(suite, p!, { stateRoot: checkpoint.stateRoot, source: 'pg', table: 'public.users' }).ok // true
 */
export function proveTableRoot(suite: HashSuite, tables: Iterable<TableState>, source: string, table: string): TableRootInclusion | undefined {
  const entries: { name: string; utf8: Uint8Array; root: Uint8Array }[] = [];
  for (const t of tables) {
    if (!(t.root instanceof Uint8Array) || t.root.length !== suite.outputLength) throw new RangeError(`root of ${t.source}/${t.table} must be ${suite.outputLength} bytes`);
    const name = stateTableName(t.source, t.table);
    entries.push({ name, utf8: _utf8.encode(name), root: t.root });
  }
  entries.sort((a, b) => compareBytes(a.utf8, b.utf8));
  for (let i = 1; i < entries.length; i++) {
    if (compareBytes(entries[i - 1]!.utf8, entries[i]!.utf8) === 0) throw new RangeError(`tables: duplicate name ${entries[i]!.name}`);
  }
  const wanted = stateTableName(source, table);
  const index = entries.findIndex((e) => e.name === wanted);
  if (index < 0) return undefined;
  const tree = new LogTree(suite, DATABASE_TREE_TAGS);
  tree.appendMany(entries.map((e) => _leafData(e.utf8, e.root)));
  const found = entries[index]!;
  return { table: found.name, tableRoot: found.root, tableIndex: index, tableCount: entries.length, stateRoot: tree.root(), path: tree.inclusionProof(index) };
}

/**
 * Checks a table-root proof: recomputes the state root from (name, table root, index, count, path) with the
 * database-tree hashing and compares it with the proof's and with every expectation given. Pure; usable by
 * edge clients on untrusted input: every malformed input yields `{ ok: false, failure: 'MALFORMED' }`.
 * Callers should always pass `expect.stateRoot` (from a verified checkpoint) and the table they asked for.
 * @throws never
 * @example
 * const r = checkTableRootProof(suite, res.tableRootProof, { stateRoot: cp.stateRoot, source: 'pg', table: 'public.users', tableRoot: mapProof.root });
 * if (!r.ok) console.warn(r.failure, r.reason);
 */
export function checkTableRootProof(suite: HashSuite, proof: TableRootProofLike, expect: TableRootExpectation = {}): TableRootProofCheck {
  const bad = (failure: TableRootProofFailure, reason: string): TableRootProofCheck => ({ ok: false, failure, reason });
  try {
    if (typeof suite !== 'object' || suite === null || typeof suite.digest !== 'function' || typeof suite.digestPair !== 'function') {
      return bad(TableRootProofFailure.Malformed, 'suite must be a HashSuite');
    }
    const n = suite.outputLength;
    const isHash = (x: unknown): x is Uint8Array => x instanceof Uint8Array && x.length === n;
    if (typeof proof !== 'object' || proof === null) return bad(TableRootProofFailure.Malformed, 'proof must be an object');
    const { table, tableRoot, stateRoot: root, path } = proof;
    if (typeof table !== 'string' || table === '' || _LONE_SURROGATE.test(table)) return bad(TableRootProofFailure.Malformed, 'table must be a non-empty Unicode string');
    if (!isHash(tableRoot)) return bad(TableRootProofFailure.Malformed, `tableRoot must be ${n} bytes`);
    if (!isHash(root)) return bad(TableRootProofFailure.Malformed, `stateRoot must be ${n} bytes`);
    if (!Array.isArray(path) || path.length > _MAX_PATH || !path.every(isHash)) return bad(TableRootProofFailure.Malformed, `path must be at most ${_MAX_PATH} hashes of ${n} bytes`);
    const index = _count(proof.tableIndex);
    const count = _count(proof.tableCount);
    if (index === undefined || count === undefined || count < 1 || index >= count) return bad(TableRootProofFailure.Malformed, 'need 0 <= tableIndex < tableCount');

    if ((expect.source === undefined) !== (expect.table === undefined)) return bad(TableRootProofFailure.Malformed, 'expect source and table together');
    if (expect.source !== undefined && expect.table !== undefined) {
      let want: string;
      try {
        want = stateTableName(expect.source, expect.table);
      } catch {
        return bad(TableRootProofFailure.Malformed, 'expected source/table are not valid names');
      }
      if (want !== table) return bad(TableRootProofFailure.WrongTable, `proof is for ${table}, expected ${want}`);
    }
    if (expect.stateRoot !== undefined && !(isHash(expect.stateRoot) && equalBytes(expect.stateRoot, root))) {
      return bad(TableRootProofFailure.WrongStateRoot, 'state root differs from the expected one');
    }
    if (expect.tableRoot !== undefined && !(isHash(expect.tableRoot) && equalBytes(expect.tableRoot, tableRoot))) {
      return bad(TableRootProofFailure.WrongTableRoot, 'table root differs from the expected one');
    }

    let r = suite.digest(concatBytes(DATABASE_TREE_TAGS.leaf, _leafData(_utf8.encode(table), tableRoot)));
    // RFC 9162 §2.1.3.2 with the database node tag. Halving by division: counts may exceed 2^32.
    let fn = index;
    let sn = count - 1;
    for (const p of path) {
      if (sn === 0) return bad(TableRootProofFailure.PathMismatch, 'path is longer than the tree is deep');
      if (fn % 2 === 1 || fn === sn) {
        r = suite.digestPair(DATABASE_TREE_TAGS.node, p, r);
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      } else {
        r = suite.digestPair(DATABASE_TREE_TAGS.node, r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    if (sn !== 0) return bad(TableRootProofFailure.PathMismatch, 'path is shorter than the tree is deep');
    if (!equalBytes(r, root)) return bad(TableRootProofFailure.PathMismatch, 'path does not lead to the state root');
    return { ok: true };
  } catch (e) {
    // Getters on hostile objects, exotic iterables...: still a typed failure, never a throw.
    return bad(TableRootProofFailure.Malformed, `unreadable proof: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * {@link checkTableRootProof} as a boolean.
 * @throws never
 * @example verifyTableRootProof(suite, res.tableRootProof, { stateRoot: cp.stateRoot, source: 'pg', table: 'public.users' })
 */
export function verifyTableRootProof(suite: HashSuite, proof: TableRootProofLike, expect: TableRootExpectation = {}): boolean {
  return checkTableRootProof(suite, proof, expect).ok;
}

function _count(v: unknown): number | undefined {
  if (typeof v === 'bigint') return v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}
