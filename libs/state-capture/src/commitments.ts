// Commitments over captured rows, computed exactly as the CDC pipeline computes them: canonical row encoding
// (libs/crypto part A) → keyed leaf commitment and keyed map key (part B §5, per (source, table) keys of the
// configured commitment epoch) → one SparseMerkleMap per table (map_key → leaf) → the state root of
// libs/protocol's stateRoot over (stateTableName(source, table), table root).
import {
  CryptoError,
  KeyDeriver,
  commitMapKey,
  commitRow,
  deriveCommitmentKeys,
  encodePrimaryKey,
  encodeRow,
  fromPgText,
  type CommitmentAlgorithm,
  type CommitmentKeys,
  type KeyProvider,
  type PgValue,
} from '@merklesync/crypto';
import { SparseMerkleMap, getHashSuite, mapEmptyRoot, type HashSuite, type HashSuiteName } from '@merklesync/merkle';
import { stateRoot } from '@merklesync/protocol';
import { pkIndexes, type TableMeta } from './catalog.ts';
import { CaptureError, CaptureErrorCode } from './errors.ts';
import type { RowTexts } from './tx-capture.ts';

/** Which keys and hash suite the commitments use; must equal ingest's for the cross-check to hold. */
export interface CommitmentSettings {
  /** Source id (ingest's INGEST_SOURCE_ID of the same database). */
  readonly source: string;
  readonly kid: string;
  /** Master key version of the commitment epoch. */
  readonly commitmentKeyVersion: number;
  readonly algorithm: CommitmentAlgorithm;
  readonly suite: HashSuiteName;
}

/** One key's commitments: the keyed map key and the leaf (null when the row is absent). */
export interface KeyCommitment {
  readonly mapKey: Uint8Array;
  readonly leaf: Uint8Array | null;
}

/** The commitments of one table's captured rows. */
export interface TableCommitments {
  readonly table: string;
  readonly root: Uint8Array;
  /** By lower-case hex of the map key. */
  readonly entries: Map<string, KeyCommitment>;
}

const _hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * Derives per-table commitment keys (cached) and computes leaves, map keys and roots.
 * @example const h = new StateHasher(provider, settings); await h.prepare(['public.users']); h.table(meta, rows)
 */
export class StateHasher {
  readonly settings: CommitmentSettings;
  readonly suite: HashSuite;
  readonly #deriver: KeyDeriver;
  readonly #keys = new Map<string, CommitmentKeys>();
  // One map reused for many roots: a SparseMerkleMap's in-memory store reserves arenas (a 1 MiB value chunk) up
  // front, so a fresh map per root costs far more than the hashing. Replaced now and then to bound its growth.
  #map: SparseMerkleMap | undefined;
  #mapUses = 0;

  constructor(provider: KeyProvider, settings: CommitmentSettings) {
    this.settings = settings;
    this.suite = getHashSuite(settings.suite);
    this.#deriver = new KeyDeriver(provider);
  }

  /** @throws CaptureError(KEY_MATERIAL) when the key id / version is unknown. */
  async prepare(tables: Iterable<string>): Promise<void> {
    for (const table of tables) {
      if (this.#keys.has(table)) continue;
      try {
        const secret = await this.#deriver.tableSecret({ kid: this.settings.kid, version: this.settings.commitmentKeyVersion, source: this.settings.source, table });
        this.#keys.set(table, deriveCommitmentKeys(secret, this.settings.algorithm));
      } catch (e) {
        throw new CaptureError(CaptureErrorCode.KeyMaterial, `commitment keys of ${table}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    }
  }

  /** The commitment keys of a prepared table. */
  keysOf(table: string): CommitmentKeys {
    const k = this.#keys.get(table);
    if (!k) throw new CaptureError(CaptureErrorCode.KeyMaterial, `commitment keys of ${table} were not prepared`);
    return k;
  }

  /** Canonical row bytes of a captured row. @throws CaptureError(DECODE) naming table and column. */
  rowBytes(meta: TableMeta, row: RowTexts): Uint8Array {
    const cols: Record<string, PgValue> = {};
    meta.columns.forEach((c, i) => {
      cols[c.name] = _typed(meta, c.name, c.pgType, row[i] ?? null);
    });
    try {
      return encodeRow(cols);
    } catch (e) {
      throw new CaptureError(CaptureErrorCode.Decode, `${meta.name}: row not encodable: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Canonical primary-key bytes from the pk texts. */
  pkBytes(meta: TableMeta, pk: readonly string[]): Uint8Array {
    const idx = pkIndexes(meta);
    try {
      return encodePrimaryKey(idx.map((ci, i) => _typed(meta, meta.columns[ci]!.name, meta.columns[ci]!.pgType, pk[i] ?? null)));
    } catch (e) {
      if (e instanceof CaptureError) throw e;
      throw new CaptureError(CaptureErrorCode.Decode, `${meta.name}: primary key not encodable: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Commitments and map root of one table's rows (by pk key; null rows are absent and not in the map). */
  table(meta: TableMeta, keys: ReadonlyMap<string, readonly string[]>, rows: ReadonlyMap<string, RowTexts | null>): TableCommitments {
    const k = this.keysOf(meta.name);
    const entries = new Map<string, KeyCommitment>();
    const ops: { key: Uint8Array; value: Uint8Array }[] = [];
    for (const [id, pk] of keys) {
      const mapKey = commitMapKey(k, meta.name, this.pkBytes(meta, pk));
      const row = rows.get(id) ?? null;
      const leaf = row === null ? null : commitRow(k, this.rowBytes(meta, row));
      entries.set(_hex(mapKey), { mapKey, leaf });
      if (leaf) ops.push({ key: mapKey, value: leaf });
    }
    return { table: meta.name, root: this.#root(ops), entries };
  }

  /** Root of the empty map. */
  get emptyRoot(): Uint8Array {
    return mapEmptyRoot(this.suite);
  }

  /** Map root of (map key hex → leaf) entries; null leaves are absent. */
  mapRoot(leaves: ReadonlyMap<string, Uint8Array | null>): Uint8Array {
    return this.#root([...leaves].filter((e): e is [string, Uint8Array] => e[1] !== null).map(([k, v]) => ({ key: Uint8Array.from(Buffer.from(k, 'hex')), value: v })));
  }

  #root(ops: { key: Uint8Array; value: Uint8Array }[]): Uint8Array {
    if (ops.length === 0) return mapEmptyRoot(this.suite);
    if (!this.#map || this.#mapUses >= 4096 || this.#map.store.size > 1 << 20) {
      this.#map = new SparseMerkleMap({ suite: this.suite });
      this.#mapUses = 0;
    }
    this.#mapUses++;
    const m = this.#map;
    return Uint8Array.from(m.update(m.emptyRoot, ops));
  }

  /** The state root over table roots (libs/protocol stateRoot with this source). */
  stateRoot(tables: Iterable<{ table: string; root: Uint8Array }>): Uint8Array {
    return stateRoot(this.suite, [...tables].map((t) => ({ source: this.settings.source, table: t.table, root: t.root })));
  }
}

function _typed(meta: TableMeta, column: string, type: TableMeta['columns'][number]['pgType'], text: string | null): PgValue {
  try {
    return fromPgText(type, text);
  } catch (e) {
    const why = e instanceof CryptoError || e instanceof TypeError || e instanceof RangeError ? e.message : String(e);
    throw new CaptureError(CaptureErrorCode.Decode, `${meta.name}.${column}: cannot type value: ${why}`, { cause: e });
  }
}
