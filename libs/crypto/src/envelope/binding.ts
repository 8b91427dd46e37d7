import { assertBytes } from '@merklesync/merkle';
import { _nameCached } from '../keys/_bytes.ts';

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
  const parts = _bindingParts(binding);
  const out = new Uint8Array(parts.length);
  _writeBinding(out, 0, parts);
  return out;
}

/** A checked binding, ready to be written (`length` = its encoded size). @internal */
export interface _BindingParts {
  readonly source: Uint8Array;
  readonly table: Uint8Array;
  readonly primaryKey: Uint8Array;
  readonly rowVersion: bigint;
  readonly length: number;
}

/** Checks a binding as encodeRowBinding does (same errors, same order). @internal */
export function _bindingParts(binding: RowBinding): _BindingParts {
  if (typeof binding !== 'object' || binding === null) throw new TypeError('binding must be an object');
  const s = _nameCached('binding.source', binding.source);
  const t = _nameCached('binding.table', binding.table);
  assertBytes('binding.primaryKey', binding.primaryKey);
  if (binding.primaryKey.length > 0xffffffff) throw new RangeError('binding.primaryKey must be at most 2^32 - 1 bytes');
  const v = binding.rowVersion;
  let big: bigint;
  if (typeof v === 'bigint') big = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) big = BigInt(v);
  else throw new TypeError('binding.rowVersion must be a safe integer or a bigint');
  if (big < 0n || big > _U64_MAX) throw new RangeError(`binding.rowVersion must be in 0..2^64-1, got ${big}`);
  return { source: s, table: t, primaryKey: binding.primaryKey, rowVersion: big, length: 16 + s.length + t.length + binding.primaryKey.length };
}

/** Writes the binding bytes at `out[offset..offset + parts.length)`. @internal */
export function _writeBinding(out: Uint8Array, offset: number, parts: _BindingParts): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let at = offset;
  view.setUint16(at, parts.source.length);
  out.set(parts.source, at + 2);
  at += 2 + parts.source.length;
  view.setUint16(at, parts.table.length);
  out.set(parts.table, at + 2);
  at += 2 + parts.table.length;
  view.setUint32(at, parts.primaryKey.length);
  out.set(parts.primaryKey, at + 4);
  at += 4 + parts.primaryKey.length;
  view.setBigUint64(at, parts.rowVersion);
}
