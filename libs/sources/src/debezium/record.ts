// One Kafka record of a Debezium PostgreSQL connector → what it means for MerkleSync: a row change (with typed
// values), a tombstone, a heartbeat, or a transaction BEGIN/END. JSON converter with or without schemas.
import { resolvePgType, type PgValue, type ResolvedPgType } from '@merklesync/crypto';
import type { Change } from '../types.ts';
import { JsonNumber, isJsonObject, jsonBigInt, jsonInt, parseExactJson, type ExactJson } from './json.ts';
import { ValueDecodeError, decodeValue, isUnavailable, type ColumnInfo, type ConnectSchema, type DebeziumValueModes } from './values.ts';

/** Column types of one table from the source database's catalog (needed for schemaless records). */
export interface CatalogTable {
  /** Column name → type and declared numeric scale. */
  columns: ReadonlyMap<string, { pgType: ResolvedPgType; scale: number | null }>;
  /** Primary-key columns in key order. */
  primaryKey: readonly string[];
}

/** Why a record is refused; it goes to the dead-letter topic with this code and message. */
export const PoisonCode = {
  /** Not JSON, or not a Debezium envelope. */
  Malformed: 'MALFORMED',
  /** A value could not be turned into the typed value pgoutput gives (or lost information in Debezium's form). */
  Decode: 'DECODE',
  /** The column types are unknown: no schema parameters (column.propagate.source.type) and no catalog entry. */
  UnknownTypes: 'UNKNOWN_TYPES',
  /** An operation this source does not handle (e.g. a logical decoding message on a table topic). */
  Unsupported: 'UNSUPPORTED',
} as const;
export type PoisonCode = (typeof PoisonCode)[keyof typeof PoisonCode];

/** A record that cannot be used, with the reason. `xid`/`totalOrder` are set when its transaction is known. */
export class PoisonRecord extends Error {
  readonly code: PoisonCode;
  readonly xid: string | null;
  readonly totalOrder: number | null;
  constructor(code: PoisonCode, message: string, tx: { xid: string | null; totalOrder: number | null } = { xid: null, totalOrder: null }) {
    super(message);
    this.name = 'PoisonRecord';
    this.code = code;
    this.xid = tx.xid;
    this.totalOrder = tx.totalOrder;
  }
}

export type DebeziumRecord =
  | {
      kind: 'change';
      /** `schema.table` as Debezium names it (source.schema, source.table). */
      table: string;
      change: Change;
      /** source.snapshot: 'true' | 'first' | 'last' | 'first_in_data_collection' | 'last_in_data_collection' | 'incremental' for snapshot reads, null otherwise. */
      snapshot: string | null;
      /** source.lsn */
      lsn: bigint;
      /** The Postgres xid of the transaction (the part before ':' of transaction.id), null outside transactions. */
      xid: string | null;
      totalOrder: number | null;
      /** source.ts_us (commit time for streamed changes), or ts_ms × 1000. */
      timeMicros: bigint | null;
    }
  | { kind: 'tombstone' }
  | { kind: 'heartbeat'; tsMs: number | null }
  | { kind: 'tx-begin'; xid: string }
  | {
      kind: 'tx-end';
      xid: string;
      /** The LSN after `:` in the END id: the end of the commit record (what the slot confirms). */
      endLsn: bigint | null;
      /** `commit_lsn` (the commit record's LSN, Debezium versions that send it), else null. */
      commitLsn: bigint | null;
      /** Events per data collection (`schema.table`). */
      counts: ReadonlyMap<string, number>;
      tsMs: number | null;
    };

function _schema(s: ExactJson | undefined): ConnectSchema | null {
  if (!isJsonObject(s)) return null;
  const params: Record<string, string> = {};
  if (isJsonObject(s.parameters)) for (const [k, v] of Object.entries(s.parameters)) if (typeof v === 'string') params[k] = v;
  return {
    type: typeof s.type === 'string' ? s.type : '',
    name: typeof s.name === 'string' ? s.name : null,
    parameters: params,
    items: _schema(s.items),
  };
}

/** Connect schema of the envelope field `field` (`before` / `after`) → its column schemas by name. */
function _rowSchemas(valueSchema: ExactJson | undefined, field: string): Map<string, ConnectSchema> | null {
  if (!isJsonObject(valueSchema) || !Array.isArray(valueSchema.fields)) return null;
  const f = valueSchema.fields.find((x) => isJsonObject(x) && x.field === field);
  if (!isJsonObject(f) || !Array.isArray(f.fields)) return null;
  const out = new Map<string, ConnectSchema>();
  for (const c of f.fields) if (isJsonObject(c) && typeof c.field === 'string') out.set(c.field, _schema(c)!);
  return out;
}

function _xid(id: ExactJson | undefined): string | null {
  if (typeof id !== 'string' || id === '') return null;
  const i = id.indexOf(':');
  return i < 0 ? id : id.slice(0, i);
}

/** Envelope `{schema, payload}` (schemas.enable=true) or the bare payload. */
function _unwrap(v: ExactJson): { schema: ExactJson | undefined; payload: ExactJson } {
  if (isJsonObject(v) && 'payload' in v && 'schema' in v && Object.keys(v).length === 2) return { schema: v.schema, payload: v.payload };
  return { schema: undefined, payload: v };
}

interface _RowSchemas {
  before: Map<string, ConnectSchema> | null;
  after: Map<string, ConnectSchema> | null;
}

// Every record of a table repeats the same value schema (several kB with column.propagate.source.type): parse each
// distinct schema text once. JsonConverter writes `{"schema":<schema>,"payload":<payload>}`; no Connect schema has
// a key named "payload", so the first `},"payload":` ends the schema.
const _SCHEMAS = new Map<string, _RowSchemas>();
const _SCHEMA_CACHE_SIZE = 256;

function _splitEnvelope(text: string): { schemaText: string; payloadText: string } | null {
  if (!text.startsWith('{"schema":') || !text.endsWith('}')) return null;
  const i = text.indexOf('},"payload":');
  if (i < 0) return null;
  return { schemaText: text.slice(10, i + 1), payloadText: text.slice(i + 12, -1) };
}

function _cachedRowSchemas(schemaText: string): _RowSchemas {
  let r = _SCHEMAS.get(schemaText);
  if (r === undefined) {
    const schema = parseExactJson(schemaText);
    r = { before: _rowSchemas(schema, 'before'), after: _rowSchemas(schema, 'after') };
    if (_SCHEMAS.size >= _SCHEMA_CACHE_SIZE) _SCHEMAS.delete(_SCHEMAS.keys().next().value!);
    _SCHEMAS.set(schemaText, r);
  }
  return r;
}

/** Options of {@link parseDebeziumRecord}. */
export interface RecordContext {
  modes: DebeziumValueModes;
  /** Which topic carries what. */
  topicKind: 'table' | 'transaction' | 'heartbeat';
  /** Catalog entry of the record's table, when one was loaded (schemaless records need it). */
  catalog: (table: string) => CatalogTable | undefined;
}

function _columnInfo(table: string, name: string, schema: ConnectSchema | undefined, catalog: CatalogTable | undefined): ColumnInfo {
  const declared = schema?.parameters['__debezium.source.column.type'];
  if (declared !== undefined) {
    let pgType = resolvePgType(declared);
    // Enums reach pgoutput as text (libs/sources "decoded as text"); Debezium names them io.debezium.data.Enum.
    if (pgType === undefined && (schema?.name === 'io.debezium.data.Enum' || schema?.name === 'io.debezium.data.EnumSet')) pgType = { scalar: 'text', array: false };
    if (pgType === undefined && schema?.items?.name === 'io.debezium.data.Enum') pgType = { scalar: 'text', array: true };
    if (pgType === undefined) throw new PoisonRecord(PoisonCode.Decode, `${table}.${name}: unsupported type ${declared}`);
    const s = schema?.parameters['__debezium.source.column.scale'];
    const hasScale = pgType.scalar === 'numeric' && s !== undefined && schema?.parameters['__debezium.source.column.length'] !== '0' && /^[0-9]+$/.test(s);
    return { name, pgType, scale: hasScale ? Number(s) : (catalog?.columns.get(name)?.scale ?? null), schema: schema ?? null };
  }
  const c = catalog?.columns.get(name);
  if (c === undefined) {
    throw new PoisonRecord(PoisonCode.UnknownTypes, `${table}.${name}: column type unknown (enable column.propagate.source.type in the connector, or give the source a catalog connection)`);
  }
  return { name, pgType: c.pgType, scale: c.scale, schema: schema ?? null };
}

function _row(table: string, raw: ExactJson | undefined, schemas: Map<string, ConnectSchema> | null, catalog: CatalogTable | undefined, modes: DebeziumValueModes, fallback: Record<string, ExactJson> | null): Record<string, PgValue> | null {
  if (raw === null || raw === undefined) return null;
  if (!isJsonObject(raw)) throw new PoisonRecord(PoisonCode.Malformed, `${table}: row is not an object`);
  const out: Record<string, PgValue> = {};
  for (const [name, v] of Object.entries(raw)) {
    let value = v;
    if (isUnavailable(v, modes)) {
      // An unchanged TOASTed value: with REPLICA IDENTITY FULL the old row has it (what pgoutput's source does).
      const old = fallback?.[name];
      if (old === undefined || old === null || isUnavailable(old, modes)) {
        throw new PoisonRecord(PoisonCode.Decode, `${table}.${name}: unchanged TOASTed value not sent; the table needs REPLICA IDENTITY FULL`);
      }
      value = old;
    }
    const col = _columnInfo(table, name, schemas?.get(name), catalog);
    try {
      out[name] = decodeValue(col, value, modes);
    } catch (e) {
      if (e instanceof ValueDecodeError) throw new PoisonRecord(PoisonCode.Decode, `${table}: ${e.message}`);
      throw new PoisonRecord(PoisonCode.Decode, `${table}.${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return out;
}

/** Primary key in key order: the Kafka key's fields (Debezium writes them in primary-key order) typed like the row. */
function _primaryKey(table: string, key: ExactJson, keySchema: ExactJson | undefined, rowSchemas: Map<string, ConnectSchema> | null, catalog: CatalogTable | undefined, modes: DebeziumValueModes): PgValue[] {
  if (!isJsonObject(key)) throw new PoisonRecord(PoisonCode.Malformed, `${table}: record key is not an object (tables without a primary key are refused)`);
  let names = Object.keys(key);
  if (isJsonObject(keySchema) && Array.isArray(keySchema.fields)) {
    names = keySchema.fields.flatMap((f) => (isJsonObject(f) && typeof f.field === 'string' ? [f.field] : []));
  } else if (catalog) {
    names = [...catalog.primaryKey];
  }
  if (names.length === 0) throw new PoisonRecord(PoisonCode.Malformed, `${table}: empty record key`);
  return names.map((n) => {
    const col = _columnInfo(table, n, rowSchemas?.get(n), catalog);
    const raw = key[n];
    if (raw === undefined || raw === null) throw new PoisonRecord(PoisonCode.Malformed, `${table}: key column ${n} missing`);
    try {
      return decodeValue(col, raw, modes);
    } catch (e) {
      throw new PoisonRecord(PoisonCode.Decode, `${table} key: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}

/**
 * Decodes one Kafka record. `key` and `value` are the raw bytes (value null for a tombstone).
 * @throws PoisonRecord with the reason for a record that cannot be used.
 * @example parseDebeziumRecord(msg.key, msg.value, { modes: DEFAULT_VALUE_MODES, topicKind: 'table', catalog: () => undefined })
 */
export function parseDebeziumRecord(key: Uint8Array | null, value: Uint8Array | null, ctx: RecordContext): DebeziumRecord {
  if (value === null || value.length === 0) return { kind: 'tombstone' };
  let schema: ExactJson | undefined;
  let payload: ExactJson;
  let rowSchemas: _RowSchemas | null = null;
  try {
    const text = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
    const split = ctx.topicKind === 'table' ? _splitEnvelope(text) : null;
    if (split) {
      rowSchemas = _cachedRowSchemas(split.schemaText);
      payload = parseExactJson(split.payloadText);
    } else {
      ({ schema, payload } = _unwrap(parseExactJson(text)));
    }
  } catch (e) {
    throw new PoisonRecord(PoisonCode.Malformed, `value is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isJsonObject(payload)) throw new PoisonRecord(PoisonCode.Malformed, 'value payload is not an object');

  if (ctx.topicKind === 'heartbeat') return { kind: 'heartbeat', tsMs: jsonInt(payload.ts_ms) ?? null };
  if (ctx.topicKind === 'transaction') {
    const xid = _xid(payload.id);
    if (xid === null) throw new PoisonRecord(PoisonCode.Malformed, 'transaction event without an id');
    if (payload.status === 'BEGIN') return { kind: 'tx-begin', xid };
    if (payload.status !== 'END') throw new PoisonRecord(PoisonCode.Malformed, `transaction event with status ${JSON.stringify(payload.status)}`);
    const counts = new Map<string, number>();
    if (!Array.isArray(payload.data_collections)) throw new PoisonRecord(PoisonCode.Malformed, `END of ${xid} without data_collections`);
    for (const dc of payload.data_collections) {
      const n = isJsonObject(dc) ? jsonInt(dc.event_count) : undefined;
      if (!isJsonObject(dc) || typeof dc.data_collection !== 'string' || n === undefined) throw new PoisonRecord(PoisonCode.Malformed, `END of ${xid}: bad data_collections entry`);
      counts.set(dc.data_collection, n);
    }
    const id = typeof payload.id === 'string' ? payload.id : '';
    const endLsn = id.includes(':') ? (jsonBigInt(id.slice(id.indexOf(':') + 1)) ?? null) : null;
    return { kind: 'tx-end', xid, endLsn, commitLsn: jsonBigInt(payload.commit_lsn) ?? null, counts, tsMs: jsonInt(payload.ts_ms) ?? null };
  }

  const source = payload.source;
  const op = payload.op;
  if (!isJsonObject(source) || typeof op !== 'string') throw new PoisonRecord(PoisonCode.Malformed, 'not a Debezium change event (no source or op)');
  const tx = isJsonObject(payload.transaction) ? payload.transaction : null;
  const xid = tx ? _xid(tx.id) : null;
  const totalOrder = tx ? (jsonInt(tx.total_order) ?? null) : null;
  const txRef = { xid, totalOrder };
  if (typeof source.schema !== 'string' || typeof source.table !== 'string') throw new PoisonRecord(PoisonCode.Malformed, 'change event without source.schema/table', txRef);
  const table = `${source.schema}.${source.table}`;
  const lsn = jsonBigInt(source.lsn);
  if (lsn === undefined) throw new PoisonRecord(PoisonCode.Malformed, `${table}: change event without source.lsn`, txRef);
  const timeMicros = jsonBigInt(source.ts_us) ?? (jsonBigInt(source.ts_ms) !== undefined ? jsonBigInt(source.ts_ms)! * 1000n : null);
  const snapshot = typeof source.snapshot === 'string' && source.snapshot !== 'false' ? source.snapshot : null;
  const catalog = ctx.catalog(table);

  try {
    if (op === 't') {
      return { kind: 'change', table, change: { op: 'truncate', schema: source.schema, table: source.table, cascade: false, restartIdentity: false }, snapshot, lsn, xid, totalOrder, timeMicros };
    }
    if (op !== 'r' && op !== 'c' && op !== 'u' && op !== 'd') throw new PoisonRecord(PoisonCode.Unsupported, `${table}: op ${JSON.stringify(op)}`, txRef);
    let keyJson: ExactJson = null;
    let keySchema: ExactJson | undefined;
    if (key !== null && key.length > 0) {
      try {
        const k = _unwrap(parseExactJson(Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('utf8')));
        keyJson = k.payload;
        keySchema = k.schema;
      } catch (e) {
        throw new PoisonRecord(PoisonCode.Malformed, `${table}: key is not JSON: ${e instanceof Error ? e.message : String(e)}`, txRef);
      }
    }
    const beforeSchemas = rowSchemas ? rowSchemas.before : _rowSchemas(schema, 'before');
    const afterSchemas = rowSchemas ? rowSchemas.after : _rowSchemas(schema, 'after');
    const before = isJsonObject(payload.before) ? payload.before : null;
    const primaryKey = _primaryKey(table, keyJson, keySchema, afterSchemas ?? beforeSchemas, catalog, ctx.modes);
    const change: Change =
      op === 'd'
        ? { op: 'delete', schema: source.schema, table: source.table, primaryKey, row: _row(table, payload.before, beforeSchemas, catalog, ctx.modes, null) }
        : {
            op: op === 'r' ? 'snapshot' : op === 'c' ? 'insert' : 'update',
            schema: source.schema,
            table: source.table,
            primaryKey,
            row: _row(table, payload.after, afterSchemas, catalog, ctx.modes, before),
          };
    if (change.op !== 'delete' && change.row === null) throw new PoisonRecord(PoisonCode.Malformed, `${table}: op ${op} without an after row`, txRef);
    return { kind: 'change', table, change, snapshot: op === 'r' ? (snapshot ?? 'true') : null, lsn, xid, totalOrder, timeMicros };
  } catch (e) {
    if (e instanceof PoisonRecord) throw e.xid === null && xid !== null ? new PoisonRecord(e.code, e.message, txRef) : e;
    throw new PoisonRecord(PoisonCode.Decode, `${table}: ${e instanceof Error ? e.message : String(e)}`, txRef);
  }
}

export { JsonNumber };
