// Field checks shared by the event validators. Each throws ProtocolError naming the field path.
import { ProtocolError, ProtocolErrorCode } from '../errors.ts';
import { EventLimits, SUPPORTED_SCHEMA_VERSIONS } from './limits.ts';

const _utf8 = new TextEncoder();

export function _invalid(field: string, why: string): never {
  throw new ProtocolError(ProtocolErrorCode.InvalidEvent, `${field}: ${why}`, { field });
}

export function _oversized(field: string, why: string): never {
  throw new ProtocolError(ProtocolErrorCode.Oversized, `${field}: ${why}`, { field });
}

/** Required sub-message (proto3 message fields are undefined when absent). */
export function _present<T>(value: T | undefined, field: string): T {
  if (value === undefined) _invalid(field, 'required');
  return value;
}

export function _version(value: number, field: string): void {
  if (value === 0) _invalid(field, 'required (0 = missing)');
  if (!SUPPORTED_SCHEMA_VERSIONS.includes(value)) {
    throw new ProtocolError(
      ProtocolErrorCode.UnsupportedVersion,
      `${field}: version ${value} is not supported (supported: ${SUPPORTED_SCHEMA_VERSIONS.join(', ')})`,
      { field },
    );
  }
}

export function _hash(value: Uint8Array, field: string): void {
  if (value.length === 0) _invalid(field, 'required');
  if (value.length !== 32) _invalid(field, `must be 32 bytes, got ${value.length}`);
}

export function _hashOrEmpty(value: Uint8Array, field: string): void {
  if (value.length !== 0 && value.length !== 32) _invalid(field, `must be 32 bytes or empty, got ${value.length}`);
}

export function _bytes(value: Uint8Array, field: string, max: number): void {
  if (value.length === 0) _invalid(field, 'required');
  if (value.length > max) _oversized(field, `${value.length} bytes, limit ${max}`);
}

export function _text(value: string, field: string, max: number, required = true): void {
  if (value.length === 0) {
    if (required) _invalid(field, 'required');
    return;
  }
  // UTF-16 length bounds the UTF-8 length from below; encode only when it could matter.
  if (value.length > max || value.length * 3 > max) {
    const n = _utf8.encode(value).length;
    if (n > max) _oversized(field, `${n} UTF-8 bytes, limit ${max}`);
  }
}

export function _name(value: string, field: string): void {
  _text(value, field, EventLimits.maxNameBytes);
}

export function _positive(value: bigint, field: string): void {
  if (value <= 0n) _invalid(field, 'required (must be >= 1)');
}

export function _treeSize(value: bigint, field: string): void {
  _positive(value, field);
  if (value > EventLimits.maxTreeSize) _invalid(field, 'above 2^53 - 1');
}

// Each enum's values as a set, made once (Object.values built an array on every check: once per change on the bus).
const _enumSets = new WeakMap<object, ReadonlySet<unknown>>();

/** The values of an enum object, as a set (cached). */
export function _enumValues(known: Readonly<Record<string, number>>): ReadonlySet<unknown> {
  let set = _enumSets.get(known);
  if (set === undefined) _enumSets.set(known, (set = new Set<unknown>(Object.values(known))));
  return set;
}

export function _enum(value: number, known: Readonly<Record<string, number>>, field: string): void {
  if (value === 0) _invalid(field, 'required (UNSPECIFIED)');
  if (!_enumValues(known).has(value)) _invalid(field, `unknown enum value ${value}`);
}

export function _list(length: number, field: string, max: number, min = 0): void {
  if (length < min) _invalid(field, `needs at least ${min} item(s)`);
  if (length > max) _oversized(field, `${length} items, limit ${max}`);
}
