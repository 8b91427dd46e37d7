/**
 * pgoutput logical replication messages, protocol version 1 (PostgreSQL docs, "Logical Replication Message
 * Formats"). Values stay in Postgres' text output format; typing them is the assembler's job.
 */

/** One column value of a TupleData: text, SQL NULL, or an unchanged TOASTed value that was not sent. */
export type TupleValue = string | null | typeof UNCHANGED_TOAST;
/** Marker for 'u' tuple data: the column is TOASTed on disk and unchanged by this UPDATE. */
export const UNCHANGED_TOAST: unique symbol = Symbol('unchanged-toast');

export interface RelationColumn {
  /** Part of the replica identity (flag bit 1). */
  key: boolean;
  name: string;
  typeOid: number;
  typeMod: number;
}

export type PgOutputMessage =
  | { tag: 'begin'; finalLsn: bigint; commitTime: bigint; xid: number }
  | { tag: 'commit'; flags: number; commitLsn: bigint; endLsn: bigint; commitTime: bigint }
  | { tag: 'origin'; lsn: bigint; name: string }
  | {
      tag: 'relation';
      relationId: number;
      schema: string;
      table: string;
      replicaIdentity: string;
      columns: RelationColumn[];
    }
  | { tag: 'type'; typeOid: number; schema: string; name: string }
  | { tag: 'insert'; relationId: number; newTuple: TupleValue[]; bytes: number }
  | {
      tag: 'update';
      relationId: number;
      /** 'K' (old key, only when the key changed) or 'O' (old row, REPLICA IDENTITY FULL); absent otherwise. */
      oldKind: 'K' | 'O' | null;
      oldTuple: TupleValue[] | null;
      newTuple: TupleValue[];
      bytes: number;
    }
  | { tag: 'delete'; relationId: number; oldKind: 'K' | 'O'; oldTuple: TupleValue[]; bytes: number }
  | { tag: 'truncate'; cascade: boolean; restartIdentity: boolean; relationIds: number[] }
  | { tag: 'message' };
