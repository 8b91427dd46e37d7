import pg from 'pg';
import {
  commitMapKey,
  commitRow,
  deriveCommitmentKeys,
  deriveTableSecret,
  encodePrimaryKey,
  encodeRow,
  fromPgText,
  type PgValue,
} from '@merklesync/crypto';
import { SparseMerkleMap, getHashSuite } from '@merklesync/merkle';
import { stateRoot } from '@merklesync/protocol';

/** A table as the test workload defines it: its primary-key columns, in key order. */
export interface TableSpec {
  readonly name: string;
  readonly pk: readonly string[];
}

/** One live row as SELECT * returns it, in the forms an edge client checks against. */
export interface ExpectedRow {
  /** Canonical primary-key encoding (libs/crypto encodePrimaryKey): part of the block's RowBinding. */
  readonly primaryKey: Uint8Array;
  /** Canonical row encoding (libs/crypto encodeRow): what the block must decrypt to. */
  readonly encoded: Uint8Array;
  /** Keyed leaf commitment (libs/crypto commitRow). */
  readonly commitment: Uint8Array;
}

export interface ExpectedTable {
  readonly table: string;
  readonly root: Uint8Array;
  /** map key (hex) of every live row → the row. */
  readonly rows: Map<string, ExpectedRow>;
}

/**
 * What the pipeline must have committed, computed independently from a plain `SELECT *` of the source tables
 * with the same libraries: each row's canonical encoding, keyed commitment and map key; each table's map root;
 * the state root over all tables.
 */
export async function expectedState(
  connectionString: string,
  source: string,
  masterKey: Uint8Array,
  tables: readonly TableSpec[],
): Promise<{ stateRoot: Uint8Array; tables: ExpectedTable[] }> {
  const suite = getHashSuite('sha256');
  // Every value as Postgres's text output, typed by the column's OID: the same path ingest takes.
  const client = new pg.Client({ connectionString, types: { getTypeParser: () => (v: string) => v } });
  await client.connect();
  try {
    const out: ExpectedTable[] = [];
    for (const spec of tables) {
      const keys = deriveCommitmentKeys(deriveTableSecret(masterKey, source, spec.name), 'hmac-sha256');
      const res = await client.query<Record<string, string | null>>(`SELECT * FROM ${spec.name}`);
      const map = new SparseMerkleMap({ suite });
      const ops: { key: Uint8Array; value: Uint8Array }[] = [];
      const rows = new Map<string, ExpectedRow>();
      for (const r of res.rows) {
        const row: Record<string, PgValue> = {};
        for (const f of res.fields) row[f.name] = fromPgText(f.dataTypeID, r[f.name] ?? null);
        const primaryKey = encodePrimaryKey(spec.pk.map((c) => row[c]!));
        const key = commitMapKey(keys, spec.name, primaryKey);
        const encoded = encodeRow(row);
        const commitment = commitRow(keys, encoded);
        ops.push({ key, value: commitment });
        rows.set(Buffer.from(key).toString('hex'), { primaryKey, encoded, commitment });
      }
      out.push({ table: spec.name, root: map.update(map.emptyRoot, ops), rows });
    }
    return { stateRoot: stateRoot(suite, out.map((t) => ({ source, table: t.table, root: t.root }))), tables: out };
  } finally {
    await client.end();
  }
}

/** The map key of a row that is gone (for non-membership proofs): computed from its primary key alone. */
export function mapKeyOf(masterKey: Uint8Array, source: string, table: string, pk: PgValue[]): Uint8Array {
  return commitMapKey(deriveCommitmentKeys(deriveTableSecret(masterKey, source, table), 'hmac-sha256'), table, encodePrimaryKey(pk));
}
