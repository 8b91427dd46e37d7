// RFC 8785 JSON Canonicalization Scheme: sorted members (UTF-16 code units), ECMAScript number
// serialization, minimal string escaping, no whitespace.
import { _isJNum, _isJObj, _parseJson, type _JNode } from './_json.ts';
import { _isWellFormed, _unsupported } from './_util.ts';
import type { JsonValue } from './types.ts';

/**
 * JCS string: only '"', '\\' and C0 controls are escaped, with short escapes where JSON has them and lowercase
 * \u00xx otherwise — exactly what JSON.stringify writes for a string without lone surrogates (which are refused).
 */
export function _jcsString(what: string, s: string): string {
  if (!_isWellFormed(s)) _unsupported(what, 'lone surrogate in string');
  return JSON.stringify(s);
}

/** ECMAScript Number::toString, which RFC 8785 §3.2.2.3 adopts; -0 prints as 0. */
export function _jcsNumber(what: string, x: number): string {
  if (!Number.isFinite(x)) _unsupported(what, `${x} is not a JSON number`);
  return String(x);
}

/** Decimal text → 'sign digits e pointPosition' with no leading/trailing zeros: equal iff equal values. */
export function _decimalKey(text: string): string {
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(text);
  if (!m) return `?${text}`;
  let digits = (m[2] ?? '') + (m[3] ?? '');
  let point = (m[2] ?? '').length + (m[4] ? Number(m[4]) : 0);
  let lead = 0;
  while (lead < digits.length && digits[lead] === '0') lead++;
  digits = digits.slice(lead);
  point -= lead;
  digits = digits.replace(/0+$/, '');
  if (digits === '') return '0';
  return `${m[1] === '-' ? '-' : ''}${digits}e${point}`;
}

/**
 * Exact scientific form of a decimal the double cannot carry: sign, first significant digit, '.' and the
 * remaining significant digits (omitted when none), 'e', '+' or '-', exponent. Equal values give equal text,
 * and the text never equals RFC 8785's output for another value (that output is always a double's value).
 */
function _exactNumber(text: string): string {
  const key = _decimalKey(text); // '[-]digits e point' with value 0.digits × 10^point
  const m = /^(-?)([1-9][0-9]*)e(-?[0-9]+)$/.exec(key);
  if (!m) return '0';
  const digits = m[2]!;
  const exp = Number(m[3]) - 1;
  return `${m[1]}${digits[0]}${digits.length > 1 ? '.' + digits.slice(1) : ''}e${exp < 0 ? '-' : '+'}${Math.abs(exp)}`;
}

function _serializeNode(what: string, n: _JNode, exact: boolean): string {
  if (n === null) return 'null';
  if (n === true) return 'true';
  if (n === false) return 'false';
  if (typeof n === 'string') return _jcsString(what, n);
  if (Array.isArray(n)) {
    let s = '[';
    for (let i = 0; i < n.length; i++) {
      if (i > 0) s += ',';
      s += _serializeNode(what, n[i]!, exact);
    }
    return s + ']';
  }
  if (_isJNum(n)) {
    if (!exact) return _jcsNumber(what, Number(n.num));
    // JCS works on IEEE doubles. A number the double carries exactly prints as RFC 8785 says; any other
    // (jsonb keeps exact decimals) is written in exact scientific form rather than hashed as a different value.
    const x = Number(n.num);
    if (Number.isFinite(x)) {
      const out = String(x);
      if (_decimalKey(out) === _decimalKey(n.num)) return out;
    }
    return _exactNumber(n.num);
  }
  if (_isJObj(n)) {
    const members = n.members.slice().sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let s = '{';
    for (let i = 0; i < members.length; i++) {
      const [k, v] = members[i]!;
      if (i > 0) s += ',';
      s += _jcsString(what, k);
      s += ':';
      s += _serializeNode(what, v, exact);
    }
    return s + '}';
  }
  return _unsupported(what, 'not a JSON value');
}

// Member names in UTF-16 code unit order (RFC 8785 §3.2.3; what `<` on strings compares), sorted in place. Objects
// are mostly small: an insertion sort there, which allocates nothing (Array.prototype.sort copies into a work array).
const _SMALL_SORT = 16;

function _sortKeys(keys: string[]): void {
  if (keys.length > _SMALL_SORT) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
}

// One string built by appending (no array per object or array, no join): most rows carry small JSON values, and this
// runs once per JSON column of every row ingest encodes.
function _serializeValue(what: string, v: unknown, depth: number): string {
  if (depth > 512) _unsupported(what, 'nesting deeper than 512');
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return _jcsNumber(what, v);
    case 'string':
      return _jcsString(what, v);
    case 'object': {
      if (Array.isArray(v)) {
        let s = '[';
        // Every index, holes included: a hole is `undefined`, which is refused like any other undefined value.
        for (let i = 0; i < v.length; i++) {
          if (i > 0) s += ',';
          s += _serializeValue(what, v[i], depth + 1);
        }
        return s + ']';
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) _unsupported(what, 'only plain objects are JSON objects');
      const keys = Object.keys(v);
      _sortKeys(keys);
      const obj = v as Record<string, unknown>;
      let s = '{';
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        if (i > 0) s += ',';
        s += _jcsString(what, k);
        s += ':';
        s += _serializeValue(what, obj[k], depth + 1);
      }
      return s + '}';
    }
    default:
      return _unsupported(what, `${typeof v} is not a JSON value`);
  }
}

/**
 * RFC 8785 canonical JSON of a parsed JSON value (JS numbers are already doubles).
 * @throws CryptoError(UNSUPPORTED_VALUE) for NaN/±Infinity, lone surrogates, non-plain objects, undefined, bigint.
 * @example canonicalJson({ b: [1.0, 'x'], a: null }) // '{"a":null,"b":[1,"x"]}'
 */
export function canonicalJson(value: JsonValue): string {
  return _serializeValue('json', value, 0);
}

/** Options of canonicalJsonText. */
export interface CanonicalJsonOptions {
  /** 'reject' (default; I-JSON) or 'last' (what Postgres jsonb does: the last member wins). */
  duplicates?: 'reject' | 'last';
  /**
   * 'exact' (default): a number whose decimal value differs from the double JCS prints is written in exact
   *   scientific form (see the README) instead
   * (12345678901234567890, 0.10000000000000001, 1e400) — two different stored values must not hash alike.
   * 'double': plain RFC 8785, every number is read as the nearest IEEE double.
   */
  numbers?: 'exact' | 'double';
}

/**
 * RFC 8785 canonical JSON of JSON text (parsed strictly per RFC 8259).
 * @throws CryptoError(MALFORMED_INPUT) for text that is not JSON; CryptoError(UNSUPPORTED_VALUE) for values
 *   JCS cannot represent (lone surrogates, duplicates under 'reject', non-finite numbers under 'double').
 * @example canonicalJsonText('{"b": 2, "a": 1.50}') // '{"a":1.5,"b":2}'
 */
export function canonicalJsonText(text: string, options: CanonicalJsonOptions = {}): string {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  const duplicates = options.duplicates ?? 'reject';
  const numbers = options.numbers ?? 'exact';
  if (duplicates !== 'reject' && duplicates !== 'last') throw new RangeError("options.duplicates must be 'reject' or 'last'");
  if (numbers !== 'exact' && numbers !== 'double') throw new RangeError("options.numbers must be 'exact' or 'double'");
  return _serializeNode('json', _parseJson('json', text, duplicates), numbers === 'exact');
}

/**
 * A json/jsonb typed value made by fromPgText, carrying the canonical text computed while it was validated, so
 * encoding it does not parse the same text again. The canonical form sits in private fields: the value looks and
 * compares like the plain `{ type, text }` it stands for, and the encoder uses the remembered form only while
 * `type` and `text` are still the ones it was computed from.
 */
export class _ParsedJson {
  type: 'json' | 'jsonb';
  text: string;
  readonly #type: 'json' | 'jsonb';
  readonly #text: string;
  readonly #canonical: string;
  constructor(type: 'json' | 'jsonb', text: string, canonical: string) {
    this.type = this.#type = type;
    this.text = this.#text = text;
    this.#canonical = canonical;
  }
  /** The canonical text, or undefined when type or text changed since parsing. */
  canonicalIfUnchanged(): string | undefined {
    return this.type === this.#type && this.text === this.#text ? this.#canonical : undefined;
  }
}
