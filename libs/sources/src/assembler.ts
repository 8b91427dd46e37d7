import type { PgTextRowEncoder, PgType } from '@merklesync/crypto';
import { type CapturedTable, tableKey } from './catalog.ts';
import { _EncodedRowChange, type _Texts, _encodeTexts, _encoderFor, _typedKey, _typedRow } from './encoded.ts';
import { SourceError, SourceErrorCode } from './errors.ts';
import { formatLsn } from './lsn.ts';
import { type PgOutputMessage, type RelationColumn, type TupleValue, UNCHANGED_TOAST } from './pgoutput/messages.ts';
import type { Change, ChangeBatch, RowChange } from './types.ts';

/** What the assembler hands on: a batch to deliver, or a transaction that had nothing captured in it. */
export type AssembledItem =
  | { type: 'batch'; batch: ChangeBatch }
  /** No captured change: never delivered, but its end LSN may be confirmed once everything before it is. */
  | { type: 'empty'; commitLsn: bigint; endLsn: bigint };

export interface AssemblerOptions {
  maxChanges: number;
  maxBytes: number;
  toast: 'require-full' | 'mark-unchanged';
  /** When true (capturing the whole publication), a relation that was not described at start-up is an error. */
  strictRelations: boolean;
}

interface _Relation {
  schema: string;
  table: string;
  columns: RelationColumn[];
  types: PgType[];
  /** Indexes into `columns` of the primary-key columns, in key order. */
  pk: number[];
  captured: boolean;
  /** Text → canonical bytes for this column list; null when the relation is not captured (or cannot have one). */
  encoder: PgTextRowEncoder | null;
}

interface _OpenTx {
  xid: number;
  commitLsn: bigint;
  commitTime: bigint;
  part: number;
  changes: Change[];
  bytes: number;
}

/**
 * Turns the pgoutput message sequence into bounded `ChangeBatch` parts. Parts are cut *before* the change that
 * would overflow the bounds, never at commit, so a transaction's last part is never empty unless the whole
 * transaction is; the part count is known only at Commit (`last: true`). The cut depends only on the change
 * sequence and the bounds, so a redelivered transaction is cut into the same parts.
 */
export class TransactionAssembler {
  readonly #tables: Map<string, CapturedTable>;
  readonly #opts: AssemblerOptions;
  readonly #emit: (item: AssembledItem) => void;
  readonly #relations = new Map<number, _Relation>();
  #tx: _OpenTx | null = null;

  constructor(tables: Map<string, CapturedTable>, opts: AssemblerOptions, emit: (item: AssembledItem) => void) {
    this.#tables = tables;
    this.#opts = opts;
    this.#emit = emit;
  }

  /** True between a Begin and its Commit. */
  get inTransaction(): boolean {
    return this.#tx !== null;
  }

  /** Forgets the open transaction and relation cache (a new replication connection resends both). */
  reset(): void {
    this.#tx = null;
    this.#relations.clear();
  }

  /** @throws SourceError(PROTOCOL | DECODE | PUBLICATION_MISMATCH) */
  handle(msg: PgOutputMessage): void {
    switch (msg.tag) {
      case 'begin':
        this.#tx = { xid: msg.xid, commitLsn: msg.finalLsn, commitTime: msg.commitTime, part: 0, changes: [], bytes: 0 };
        return;
      case 'commit': {
        const tx = this.#openTx('Commit');
        this.#tx = null;
        if (tx.part === 0 && tx.changes.length === 0) {
          this.#emit({ type: 'empty', commitLsn: tx.commitLsn, endLsn: msg.endLsn });
        } else {
          this.#emit({ type: 'batch', batch: this.#batch(tx, true, msg.endLsn) });
        }
        return;
      }
      case 'relation':
        this.#relations.set(msg.relationId, this.#describe(msg.schema, msg.table, msg.columns));
        return;
      case 'insert': {
        const rel = this.#relation(msg.relationId);
        if (!rel.captured) return;
        this.#add(this.#rowChange('insert', rel, this.#texts(rel, msg.newTuple, null)), msg.bytes);
        return;
      }
      case 'update': {
        const rel = this.#relation(msg.relationId);
        if (!rel.captured) return;
        const texts = this.#texts(rel, msg.newTuple, msg.oldKind === 'O' ? msg.oldTuple : null);
        const change = this.#rowChange('update', rel, texts);
        // 'K' is sent only when the key changed; with FULL identity ('O') we compare the key columns' text.
        if (msg.oldTuple && (msg.oldKind === 'K' || rel.pk.some((i) => msg.oldTuple![i] !== msg.newTuple[i]))) {
          change.oldPrimaryKey = _typedKey(rel, msg.oldTuple, null);
        }
        if (texts.unchanged.length > 0) change.unchanged = texts.unchanged;
        this.#add(change, msg.bytes);
        return;
      }
      case 'delete': {
        const rel = this.#relation(msg.relationId);
        if (!rel.captured) return;
        this.#add(this.#deleteChange(rel, msg.oldKind, msg.oldTuple), msg.bytes);
        return;
      }
      case 'truncate':
        for (const id of msg.relationIds) {
          const rel = this.#relation(id);
          if (rel.captured) {
            this.#add({ op: 'truncate', schema: rel.schema, table: rel.table, cascade: msg.cascade, restartIdentity: msg.restartIdentity }, 0);
          }
        }
        return;
      case 'origin':
      case 'type':
      case 'message':
        // Type messages only name non-built-in types; the catalog read at start-up already resolved them.
        return;
    }
  }

  #openTx(what: string): _OpenTx {
    if (!this.#tx) throw new SourceError(SourceErrorCode.Protocol, `pgoutput: ${what} outside a transaction`);
    return this.#tx;
  }

  #add(change: Change, bytes: number): void {
    const tx = this.#openTx('change');
    if (tx.changes.length > 0 && (tx.changes.length >= this.#opts.maxChanges || tx.bytes + bytes > this.#opts.maxBytes)) {
      this.#emit({ type: 'batch', batch: this.#batch(tx, false, null) });
      tx.part++;
      tx.changes = [];
      tx.bytes = 0;
    }
    tx.changes.push(change);
    tx.bytes += bytes;
  }

  #batch(tx: _OpenTx, last: boolean, endLsn: bigint | null): ChangeBatch {
    return {
      kind: 'transaction',
      xid: tx.xid,
      commitLsn: formatLsn(tx.commitLsn),
      endLsn: endLsn === null ? null : formatLsn(endLsn),
      commitTimeMicros: tx.commitTime,
      part: tx.part,
      last,
      changes: tx.changes,
    };
  }

  #relation(id: number): _Relation {
    const rel = this.#relations.get(id);
    if (!rel) throw new SourceError(SourceErrorCode.Protocol, `pgoutput: change for relation ${id} before its Relation message`);
    return rel;
  }

  #describe(schema: string, table: string, columns: RelationColumn[]): _Relation {
    const info = this.#tables.get(tableKey(schema, table));
    if (!info) {
      if (this.#opts.strictRelations) {
        throw new SourceError(
          SourceErrorCode.PublicationMismatch,
          `table ${tableKey(schema, table)} joined the publication after the source started; restart the source to describe and snapshot it`,
        );
      }
      return { schema, table, columns, types: [], pk: [], captured: false, encoder: null };
    }
    const pk = info.primaryKey.map((name) => {
      const i = columns.findIndex((c) => c.name === name);
      if (i < 0) throw new SourceError(SourceErrorCode.Protocol, `pgoutput: relation ${tableKey(schema, table)} lacks primary-key column ${name}`);
      return i;
    });
    const types = columns.map((c) => info.columnTypes.get(c.name) ?? c.typeOid);
    return { schema, table, columns, types, pk, captured: true, encoder: _encoderFor({ schema, table, columns, types, pk }) };
  }

  /** The tuple's column texts, an unchanged TOASTed value taken from the old tuple when there is one. */
  #texts(rel: _Relation, tuple: TupleValue[], old: TupleValue[] | null): { values: _Texts; unchanged: string[] } {
    const n = rel.columns.length;
    if (tuple.length !== n) throw new SourceError(SourceErrorCode.Protocol, `pgoutput: ${tableKey(rel.schema, rel.table)}: tuple has ${tuple.length} columns, relation ${n}`);
    const values = new Array<string | null | undefined>(n);
    const unchanged: string[] = [];
    for (let i = 0; i < n; i++) {
      const v = tuple[i]!;
      if (v !== UNCHANGED_TOAST) {
        values[i] = v;
        continue;
      }
      // The old row of a REPLICA IDENTITY FULL update carries the detoasted value: the row stays complete.
      const o = old?.[i];
      if (o !== undefined && o !== UNCHANGED_TOAST) values[i] = o;
      else if (this.#opts.toast === 'mark-unchanged') unchanged.push(rel.columns[i]!.name);
      else {
        throw new SourceError(
          SourceErrorCode.ReplicaIdentity,
          `${tableKey(rel.schema, rel.table)}.${rel.columns[i]!.name}: unchanged TOASTed value not sent; the table needs REPLICA IDENTITY FULL`,
        );
      }
    }
    return { values, unchanged };
  }

  /** An insert or update: encoded now, typed on first read; or typed now when it cannot be encoded. */
  #rowChange(op: 'insert' | 'update', rel: _Relation, texts: { values: _Texts; unchanged: string[] }): RowChange {
    const values = texts.values;
    const encoded = texts.unchanged.length === 0 ? _encodeTexts(rel.encoder, values, true) : undefined;
    if (encoded !== undefined) return new _EncodedRowChange(op, rel, values, 'row', encoded);
    const row = _typedRow(rel, values);
    return { op, schema: rel.schema, table: rel.table, primaryKey: _typedKey(rel, values, row), row };
  }

  /** A delete: the key, and with FULL identity the old row (typed on first read when the key encodes). */
  #deleteChange(rel: _Relation, oldKind: 'K' | 'O', oldTuple: TupleValue[]): RowChange {
    // A TOAST marker in the old tuple goes the typed way now, so its error (or its omission) comes when it did.
    const encoded = oldTuple.includes(UNCHANGED_TOAST) ? undefined : _encodeTexts(rel.encoder, oldTuple, false);
    if (encoded !== undefined) return new _EncodedRowChange('delete', rel, oldTuple, oldKind, encoded);
    const row = oldKind === 'O' ? _typedRow(rel, this.#texts(rel, oldTuple, null).values) : null;
    return { op: 'delete', schema: rel.schema, table: rel.table, primaryKey: _typedKey(rel, oldTuple, row), row };
  }
}
