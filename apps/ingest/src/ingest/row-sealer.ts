// Turns one typed row change into what may leave ingest: a keyed map key, a keyed leaf commitment and an
// encrypted block bound to (source, table, primary key, row version). Nothing else of the row goes out.
import {
  BlockArena,
  CryptoError,
  KeyDeriver,
  commitMapKey,
  commitRow,
  deriveCommitmentKeys,
  encodeMongoDocument,
  encodePrimaryKey,
  encodeRow,
  sealBlock,
  type CommitmentAlgorithm,
  type CommitmentKeys,
  type DataKeyRef,
  type KeyProvider,
  type PgValue,
  type RandomSource,
} from '@merklesync/crypto';
import { EventLimits, RowOperation } from '@merklesync/protocol';
import { encodedRowChange, type RowChange } from '@merklesync/sources';
import { IngestError, IngestErrorCode } from './ingest.errors.ts';

/** One sealed row, the fields of a protocol `DataBlock`. */
export interface SealedRow {
  mapKey: Uint8Array;
  /** Empty for a delete. */
  leafCommitment: Uint8Array;
  /** Empty for a delete. */
  block: Uint8Array;
  rowVersion: bigint;
  op: RowOperation;
}

/** Keys of one table: the current data key (encryption) and the commitment epoch's keys. */
interface _TableKeys {
  data: DataKeyRef;
  commit: CommitmentKeys;
}

export interface RowSealerOptions {
  source: string;
  kid: string;
  commitmentAlgorithm: CommitmentAlgorithm;
  /** Master key version the commitment keys derive from: fixed, so rotating the encryption key keeps map keys and leaves. */
  commitmentKeyVersion: number;
  random?: RandomSource;
}

const _OPS = { snapshot: RowOperation.SNAPSHOT, insert: RowOperation.INSERT, update: RowOperation.UPDATE, delete: RowOperation.DELETE } as const;

function _cryptoMessage(e: unknown): string {
  return e instanceof CryptoError || e instanceof TypeError || e instanceof RangeError ? e.message : String(e);
}

/**
 * Encodes, commits and encrypts row changes of one source. Table keys are derived once per table (async, from
 * the KeyProvider) by `prepare`; sealing itself is synchronous.
 * @example
 * const sealer = new RowSealer(provider, { source: 'pg-main', kid: 'prod-1', commitmentAlgorithm: 'hmac-sha256', commitmentKeyVersion: 1 });
 * await sealer.prepare(['public.users']);
 * const sealed = sealer.seal('public.users', change, 0x16b3748n);
 */
export class RowSealer {
  readonly #deriver: KeyDeriver;
  readonly #opts: RowSealerOptions;
  readonly #tables = new Map<string, _TableKeys>();
  /**
   * Blocks are carved out of shared chunks (one allocation per ≈ 200 blocks of a few hundred bytes): the blocks of
   * a bus message are dropped together once it is published, and with them their chunks.
   */
  readonly #sealOpts: { arena: BlockArena; random?: RandomSource };
  #currentVersion: number | null = null;

  constructor(provider: KeyProvider, opts: RowSealerOptions) {
    this.#deriver = new KeyDeriver(provider);
    this.#opts = opts;
    this.#sealOpts = opts.random ? { arena: new BlockArena(), random: opts.random } : { arena: new BlockArena() };
  }

  /**
   * Derives (and caches) the keys of these tables. The encryption version is the key file's current version,
   * read once: a rotation takes effect at the next start.
   * @throws IngestError(KEY_MATERIAL) when the kid or the commitment version is not in the key material.
   */
  async prepare(tables: Iterable<string>): Promise<void> {
    const { kid, source } = this.#opts;
    try {
      this.#currentVersion ??= await this.#deriver.currentVersion(kid);
      for (const table of tables) {
        if (this.#tables.has(table)) continue;
        const key = await this.#deriver.dataKey({ kid, version: this.#currentVersion, source, table });
        const secret = await this.#deriver.tableSecret({ kid, version: this.#opts.commitmentKeyVersion, source, table });
        this.#tables.set(table, { data: { kid, version: this.#currentVersion, key }, commit: deriveCommitmentKeys(secret, this.#opts.commitmentAlgorithm) });
      }
    } catch (e) {
      throw new IngestError(IngestErrorCode.KeyMaterial, `keys of source ${source}: ${_cryptoMessage(e)}`, { cause: e });
    }
  }

  /** The commitment keys of a prepared table (tests and tools that verify what was published). */
  commitmentKeys(table: string): CommitmentKeys {
    return this.#keys(table).commit;
  }

  #keys(table: string): _TableKeys {
    const k = this.#tables.get(table);
    if (!k) throw new IngestError(IngestErrorCode.KeyMaterial, `keys of table ${table} were not prepared`);
    return k;
  }

  /**
   * Seals one row change of `table` at `rowVersion`. An update that changed the primary key yields two rows: the
   * old key's deletion, then the new row.
   * @throws IngestError(ENCODE_FAILED | ROW_TOO_LARGE | INCOMPLETE_ROW | KEY_MATERIAL), naming table (and column).
   */
  seal(table: string, change: RowChange, rowVersion: bigint): SealedRow[] {
    const keys = this.#keys(table);
    // Bytes the source encoded straight from its text (pgoutput): the typed values are then never built.
    const encoded = encodedRowChange(change);
    const out: SealedRow[] = [];
    if (change.oldPrimaryKey !== undefined) out.push(this.#deletion(keys, table, this.#pk(table, change.oldPrimaryKey), rowVersion));
    if (change.op === 'delete') {
      out.push(this.#deletion(keys, table, encoded?.primaryKey ?? this.#pk(table, change.primaryKey), rowVersion));
      return out;
    }
    if (change.unchanged !== undefined && change.unchanged.length > 0) {
      throw new IngestError(IngestErrorCode.IncompleteRow, `${this.#opts.source} ${table}: update without TOASTed columns ${change.unchanged.join(', ')} (run the source with toast 'require-full')`);
    }
    if (encoded?.row === undefined && change.row === null && change.document === undefined) {
      throw new IngestError(IngestErrorCode.IncompleteRow, `${this.#opts.source} ${table}: ${change.op} without a row`);
    }
    const pk = encoded?.primaryKey ?? this.#pk(table, change.primaryKey);
    let rowBytes = encoded?.row;
    if (rowBytes === undefined) {
      try {
        // MongoDB sources send the document as canonical Extended JSON (crypto README A.2 "MongoDB document").
        rowBytes = change.document !== undefined ? encodeMongoDocument(change.document) : encodeRow(change.row!);
      } catch (e) {
        throw new IngestError(IngestErrorCode.EncodeFailed, `${this.#opts.source} ${table}: row not encodable: ${_cryptoMessage(e)}`, { cause: e });
      }
    }
    const block = sealBlock(keys.data, { source: this.#opts.source, table, primaryKey: pk, rowVersion }, rowBytes, this.#sealOpts);
    if (block.length > EventLimits.maxBlockBytes) {
      throw new IngestError(IngestErrorCode.RowTooLarge, `${this.#opts.source} ${table}: a row of ${rowBytes.length} encoded bytes exceeds the ${EventLimits.maxBlockBytes}-byte block limit`);
    }
    out.push({ mapKey: commitMapKey(keys.commit, table, pk), leafCommitment: commitRow(keys.commit, rowBytes), block, rowVersion, op: _OPS[change.op] });
    return out;
  }

  #deletion(keys: _TableKeys, table: string, pk: Uint8Array, rowVersion: bigint): SealedRow {
    return { mapKey: commitMapKey(keys.commit, table, pk), leafCommitment: new Uint8Array(0), block: new Uint8Array(0), rowVersion, op: RowOperation.DELETE };
  }

  #pk(table: string, values: PgValue[]): Uint8Array {
    try {
      return encodePrimaryKey(values);
    } catch (e) {
      throw new IngestError(IngestErrorCode.EncodeFailed, `${this.#opts.source} ${table}: primary key not encodable: ${_cryptoMessage(e)}`, { cause: e });
    }
  }
}
