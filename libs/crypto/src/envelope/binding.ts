import { assertBytes, concatBytes } from '@merklesync/merkle';
import { _name, _u16, _u32, _u64 } from '../keys/_bytes.ts';

/**
 * The row a block belongs to. It is authenticated (AAD) but not stored in the block: decrypting requires
 * the same binding, so a block moved to another row, table or source, or replayed as another row version,
 * does not decrypt.
 */
export interface RowBinding {
  /** Source id (database / connector), 1..65535 UTF-8 bytes. */
  readonly source: string;
  /** Table (or collection) name, 1..65535 UTF-8 bytes. */
  readonly table: string;
  /** Canonical encoding of the row's primary key (at most 2^32 - 1 bytes). */
  readonly primaryKey: Uint8Array;
  /** Row version, an unsigned 64-bit integer (e.g. a commit LSN or a per-row counter). */
  readonly rowVersion: number | bigint;
}

const _U64_MAX = (1n << 64n) - 1n;

/**
 * The canonical binding bytes that follow the header in the AAD:
 * u16 len(source) || source || u16 len(table) || table || u32 len(pk) || pk || u64 rowVersion (big-endian, UTF-8).
 * @throws TypeError/RangeError naming the field that is missing, empty, too long or out of range.
 * @example encodeRowBinding({ source: 'pg', table: 'users', primaryKey: pk, rowVersion: 7 })
 */
export function encodeRowBinding(binding: RowBinding): Uint8Array {
  if (typeof binding !== 'object' || binding === null) throw new TypeError('binding must be an object');
  const s = _name('binding.source', binding.source);
  const t = _name('binding.table', binding.table);
  assertBytes('binding.primaryKey', binding.primaryKey);
  if (binding.primaryKey.length > 0xffffffff) throw new RangeError('binding.primaryKey must be at most 2^32 - 1 bytes');
  const v = binding.rowVersion;
  let big: bigint;
  if (typeof v === 'bigint') big = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) big = BigInt(v);
  else throw new TypeError('binding.rowVersion must be a safe integer or a bigint');
  if (big < 0n || big > _U64_MAX) throw new RangeError(`binding.rowVersion must be in 0..2^64-1, got ${big}`);
  return concatBytes(_u16(s.length), s, _u16(t.length), t, _u32(binding.primaryKey.length), binding.primaryKey, _u64(big));
}
