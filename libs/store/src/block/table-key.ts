// The blocks table's scan key of a (source, table): an int8 the scan index leads with instead of the two names.
import { createHash } from 'node:crypto';

const _CACHE_MAX = 4096;
const _cache = new Map<string, bigint>();

/**
 * The first 8 bytes of SHA-256(UTF-8 source || 0x00 || UTF-8 table), as a big-endian signed 64-bit integer: the
 * `table_key` column of `blocks`, which the scan index `(table_key, log_index)` leads with. Migration 004 computes
 * the same value in SQL for rows stored before it. Two tables sharing a key (a 2^-64 chance) cost a scan some
 * extra rows, never wrong ones: scans filter on the names as well.
 * @example blockTableKey('pg-main', 'public.users')
 */
export function blockTableKey(source: string, table: string): bigint {
  const k = `${source}\u0000${table}`;
  let v = _cache.get(k);
  if (v === undefined) {
    v = createHash('sha256').update(k, 'utf8').digest().readBigInt64BE(0);
    if (_cache.size >= _CACHE_MAX) _cache.clear();
    _cache.set(k, v);
  }
  return v;
}
