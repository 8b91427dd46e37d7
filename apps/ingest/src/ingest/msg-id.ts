import type { ChangeBatch } from '@merklesync/sources';

/** Escapes the id's separator (and the escape character) so names containing `:` cannot collide. */
function _esc(name: string): string {
  return name.replace(/~/g, '~7E').replace(/:/g, '~3A');
}

/**
 * The `Nats-Msg-Id` of one bus message: `<source>:<kind>:<commitLsn>:<part>:<table>`, plus `:<chunk>` for the
 * second and later messages of one (part, table) when it had to be split to fit a message. Derived only from the
 * source position and the batch bounds, so a redelivered batch gets the same ids and JetStream drops the copy.
 * `~` and `:` inside names are escaped as `~7E` / `~3A` (ordinary names are unchanged).
 * @example changeMsgId('pg-main', batch, 'public.users', 0) // 'pg-main:transaction:0/16B3748:0:public.users'
 */
export function changeMsgId(source: string, batch: Pick<ChangeBatch, 'kind' | 'commitLsn' | 'part' | 'sourcePosition'>, table: string, chunk: number): string {
  // Sources that name batches by something other than the LSN (Debezium snapshot chunks, MongoDB) set sourcePosition.
  const position = batch.sourcePosition === undefined ? batch.commitLsn : _esc(batch.sourcePosition);
  const base = `${_esc(source)}:${batch.kind}:${position}:${batch.part}:${_esc(table)}`;
  return chunk === 0 ? base : `${base}:${chunk}`;
}
