// Row changes of the pgoutput source that carry their canonical bytes and type their values only when read.
import { BlockArena, PgTextRowEncoder, type PgType, type PgValue } from '@merklesync/crypto';
import { tableKey } from './catalog.ts';
import { SourceError, SourceErrorCode } from './errors.ts';
import { UNCHANGED_TOAST, type TupleValue } from './pgoutput/messages.ts';
import type { RowChange, RowOp } from './types.ts';
import { typedValue } from './typing.ts';

/**
 * Canonical bytes a source computed for a row change straight from the text it received: `primaryKey` equals
 * `encodePrimaryKey(change.primaryKey)` and `row`, when present, equals `encodeRow(change.row)`. A consumer that
 * only encodes (ingest) takes these and never reads the typed values, which the source then never builds.
 */
export interface EncodedRowChange {
  readonly primaryKey: Uint8Array;
  /** Absent for deletes. */
  readonly row?: Uint8Array;
}

/** What typing a relation's tuples needs. */
export interface _RowShape {
  readonly schema: string;
  readonly table: string;
  readonly columns: readonly { readonly name: string }[];
  readonly types: readonly PgType[];
  /** Indexes of the primary-key columns, in key order. */
  readonly pk: readonly number[];
}

/** Column texts; `undefined` marks a column left out (`unchanged`), UNCHANGED_TOAST a value not sent. */
export type _Texts = readonly (TupleValue | undefined)[];

// Encoded rows are carved out of shared 64 KiB chunks (crypto's PgTextRowEncoder `arena` option) instead of one
// off-heap array each: a source's rows are consumed batch by batch and dropped together (README "Encoded rows").
const _rowArena = new BlockArena();

/**
 * The text → bytes encoder of a column list, or null when there can be none: a key column missing from the list
 * (index -1), or a list `encodeRow` refuses (the typed path then reports it, row by row).
 */
export function _encoderFor(shape: _RowShape): PgTextRowEncoder | null {
  if (shape.pk.includes(-1)) return null;
  try {
    return new PgTextRowEncoder(
      shape.columns.map((c, i) => ({ name: c.name, type: shape.types[i]! })),
      shape.pk,
      { arena: _rowArena },
    );
  } catch {
    return null;
  }
}

/**
 * The canonical bytes of a complete row's key (and, with `withRow`, of the row), or undefined when the encoder
 * refuses them: the caller then types the row, which reports the error with the table and column named.
 * `texts` must be complete: no column left out and no TOAST marker, each entry a string or null.
 */
export function _encodeTexts(encoder: PgTextRowEncoder | null, texts: _Texts, withRow: boolean): EncodedRowChange | undefined {
  if (encoder === null) return undefined;
  try {
    const strings = texts as readonly (string | null)[];
    const primaryKey = encoder.primaryKey(strings);
    return withRow ? { primaryKey, row: encoder.row(strings) } : { primaryKey };
  } catch {
    return undefined;
  }
}

/** The typed row of these texts (columns left out are absent). @throws SourceError(DECODE) naming the column */
export function _typedRow(shape: _RowShape, texts: _Texts): Record<string, PgValue> {
  const row: Record<string, PgValue> = {};
  for (let i = 0; i < texts.length; i++) {
    const v = texts[i];
    if (v === undefined) continue;
    const name = shape.columns[i]!.name;
    if (v === UNCHANGED_TOAST) throw new SourceError(SourceErrorCode.Protocol, `pgoutput: ${tableKey(shape.schema, shape.table)}.${name}: unexpected unchanged TOAST value`);
    row[name] = typedValue(shape.types[i]!, v, shape.schema, shape.table, name);
  }
  return row;
}

/**
 * Primary key in key order: from the typed row when there is one, else typed from the tuple.
 * @throws SourceError(PROTOCOL) for a key column missing from the tuple; SourceError(DECODE)
 */
export function _typedKey(shape: _RowShape, tuple: _Texts, row: Record<string, PgValue> | null): PgValue[] {
  return shape.pk.map((i) => {
    const name = shape.columns[i]!.name;
    if (row && name in row) return row[name]!;
    const v = tuple[i];
    if (v === undefined || v === null || v === UNCHANGED_TOAST) {
      throw new SourceError(SourceErrorCode.Protocol, `pgoutput: ${tableKey(shape.schema, shape.table)}: primary-key column ${name} missing`);
    }
    return typedValue(shape.types[i]!, v, shape.schema, shape.table, name);
  });
}

/**
 * A row change with its canonical bytes attached, whose typed `primaryKey` and `row` are built on first read and
 * kept. They are accessors on the prototype, so `Object.keys` and spreading do not list them (`toJSON` does);
 * assigning either one drops the bytes, which stood for the values as delivered.
 */
export class _EncodedRowChange implements RowChange {
  op: RowOp;
  schema: string;
  table: string;
  readonly #shape: _RowShape;
  readonly #texts: _Texts;
  /** 'row': the texts are the row; 'K': a delete without the old row; 'O': a delete with the whole old row. */
  readonly #kind: 'row' | 'K' | 'O';
  #encoded: EncodedRowChange | undefined;
  #key: PgValue[] | undefined;
  #row: Record<string, PgValue> | null | undefined;

  constructor(op: RowOp, shape: _RowShape, texts: _Texts, kind: 'row' | 'K' | 'O', encoded: EncodedRowChange) {
    this.op = op;
    this.schema = shape.schema;
    this.table = shape.table;
    this.#shape = shape;
    this.#texts = texts;
    this.#kind = kind;
    this.#encoded = encoded;
  }

  get primaryKey(): PgValue[] {
    return (this.#key ??= _typedKey(this.#shape, this.#texts, null));
  }
  set primaryKey(v: PgValue[]) {
    this.#encoded = undefined;
    this.#key = v;
  }

  get row(): Record<string, PgValue> | null {
    if (this.#row === undefined) this.#row = this.#kind === 'K' ? null : _typedRow(this.#shape, this.#texts);
    return this.#row;
  }
  set row(v: Record<string, PgValue> | null) {
    this.#encoded = undefined;
    this.#row = v;
  }

  /** The plain change, typed values included (logs, JSON). */
  toJSON(): RowChange {
    return { ...this, primaryKey: this.primaryKey, row: this.row };
  }

  /** The bytes attached to `change`, if it is one of these and they still stand. */
  static encodedOf(change: RowChange): EncodedRowChange | undefined {
    return #encoded in change ? change.#encoded : undefined;
  }
}

/**
 * The canonical bytes the source attached to this change, or undefined: sources other than PgLogicalSource,
 * snapshot rows, rows with columns left out (`unchanged`), changes the consumer copied, and changes whose `row` or
 * `primaryKey` was assigned since (the bytes stand for the values as delivered).
 * @example const rowBytes = encodedRowChange(change)?.row ?? encodeRow(change.row!);
 */
export function encodedRowChange(change: RowChange): EncodedRowChange | undefined {
  return _EncodedRowChange.encodedOf(change);
}
