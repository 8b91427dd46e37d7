// One-pass RFC 8785 canonicalization of the JSON text rows usually carry (what jsonb_out prints), straight to UTF-8
// bytes, without building the parsed value or any string: the scan writes each value's canonical bytes as it goes
// and, when an object's members were not already in order, rewrites that object's bytes in member-name order.
// It handles only what it can answer exactly like the reference (`canonicalJson(JSON.parse(t))`, and
// `canonicalJsonText` in either duplicates mode) and gives up — returns undefined — on anything else, so the caller
// takes the reference path and gets the reference's bytes or error:
//   - a string with an escape (unescaping and re-escaping is the reference's job), a raw control character, or a
//     lone surrogate anywhere in the text;
//   - a number with an exponent, or with more than 15 digits and points (the reference's exact and double forms
//     agree on the others: such a decimal has at most 15 significant digits, which a double carries and prints back
//     as the same value, so both write `String(Number(token))`);
//   - duplicate member names (jsonb keeps the last, json refuses them);
//   - nesting deeper than 64, and anything that is not JSON.
import { _isWellFormed } from './_util.ts';

const _MAX_DEPTH = 64;
const _NUMBER_CHARS_MAX = 15;

// The scan's state: one text at a time (encoding is synchronous and not re-entered).
let _t = '';
let _i = 0;
let _failed = false;
let _out = new Uint8Array(1024);
let _n = 0;
let _tmp = new Uint8Array(1024);
// Members of the objects being scanned, 4 ints each: name start and end in the text (inside the quotes), the
// member's bytes' start and end in the output (`"name":value`). Inner objects stack above outer ones.
let _members = new Int32Array(256);
let _top = 0;
const _KEEP_MAX = 1 << 20;

function _fail(): void {
  _failed = true;
}

function _room(k: number): void {
  if (_n + k <= _out.length) return;
  const next = new Uint8Array(Math.max(_out.length * 2, _n + k));
  next.set(_out.subarray(0, _n));
  _out = next;
}

function _ws(): void {
  const t = _t;
  let i = _i;
  for (; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
  }
  _i = i;
}

/**
 * The string token at `_i` (an opening quote), copied as UTF-8 with its quotes: without escapes or control
 * characters, JSON.stringify of its value is the token itself. Returns the end of its body (the closing quote).
 */
function _string(): number {
  const t = _t;
  _room(3 * (t.length - _i));
  const out = _out;
  let n = _n;
  out[n++] = 0x22;
  for (let i = _i + 1; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x22) {
      out[n++] = 0x22;
      _n = n;
      _i = i + 1;
      return i;
    }
    if (c < 0x80) {
      if (c === 0x5c || c < 0x20) break;
      out[n++] = c;
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    } else {
      // A surrogate pair (the text is well formed): one 4-byte sequence.
      const cp = 0x10000 + ((c - 0xd800) << 10) + (t.charCodeAt(++i) - 0xdc00);
      out[n++] = 0xf0 | (cp >> 18);
      out[n++] = 0x80 | ((cp >> 12) & 0x3f);
      out[n++] = 0x80 | ((cp >> 6) & 0x3f);
      out[n++] = 0x80 | (cp & 0x3f);
    }
  }
  _fail(); // an escape, a control character, or no closing quote
  return 0;
}

function _digitsFrom(i: number): number {
  const t = _t;
  while (i < t.length) {
    const c = t.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    i++;
  }
  return i;
}

function _ascii(s: string, from: number, to: number): void {
  _room(to - from);
  const out = _out;
  let n = _n;
  for (let i = from; i < to; i++) out[n++] = s.charCodeAt(i);
  _n = n;
}

/** The number token at `_i`, as RFC 8785 writes it. */
function _number(): void {
  const t = _t;
  const start = _i;
  let i = start;
  if (t.charCodeAt(i) === 0x2d) i++;
  const intStart = i;
  const c0 = t.charCodeAt(i);
  if (c0 === 0x30) i++;
  else if (c0 >= 0x31 && c0 <= 0x39) i = _digitsFrom(i + 1);
  else return _fail();
  let fraction = false;
  if (t.charCodeAt(i) === 0x2e) {
    const f = _digitsFrom(i + 1);
    if (f === i + 1) return _fail(); // '1.' is not JSON
    i = f;
    fraction = true;
  }
  const c = t.charCodeAt(i);
  if (c === 0x65 || c === 0x45 || i - intStart > _NUMBER_CHARS_MAX) return _fail();
  _i = i;
  if (fraction) {
    const s = String(Number(t.slice(start, i)));
    _ascii(s, 0, s.length);
  } else if (i - start === 2 && c0 === 0x30) _ascii('0', 0, 1); // '-0'
  else _ascii(t, start, i); // an integer of at most 15 digits without leading zeros prints as itself
}

function _literal(word: string): void {
  if (!_t.startsWith(word, _i)) return _fail();
  _i += word.length;
  _ascii(word, 0, word.length);
}

function _byte(b: number): void {
  _room(1);
  _out[_n++] = b;
}

function _array(depth: number): void {
  _i++;
  _byte(0x5b);
  _ws();
  if (_t.charCodeAt(_i) === 0x5d) {
    _i++;
    return _byte(0x5d);
  }
  for (;;) {
    _value(depth + 1);
    if (_failed) return;
    _ws();
    const c = _t.charCodeAt(_i++);
    if (c === 0x5d) return _byte(0x5d);
    if (c !== 0x2c) return _fail();
    _byte(0x2c);
    _ws();
  }
}

/** Compares the text's code units in [a, aEnd) and [b, bEnd) as `<` compares strings. */
function _compare(a: number, aEnd: number, b: number, bEnd: number): number {
  const t = _t;
  const la = aEnd - a;
  const lb = bEnd - b;
  const l = la < lb ? la : lb;
  for (let k = 0; k < l; k++) {
    const d = t.charCodeAt(a + k) - t.charCodeAt(b + k);
    if (d !== 0) return d;
  }
  return la - lb;
}

function _object(depth: number): void {
  _i++;
  const objStart = _n;
  _byte(0x7b);
  _ws();
  if (_t.charCodeAt(_i) === 0x7d) {
    _i++;
    return _byte(0x7d);
  }
  const base = _top;
  let sorted = true;
  for (;;) {
    if (_t.charCodeAt(_i) !== 0x22) return _fail();
    const nameStart = _i + 1;
    const outStart = _n;
    const nameEnd = _string();
    if (_failed) return;
    _ws();
    if (_t.charCodeAt(_i++) !== 0x3a) return _fail();
    _byte(0x3a);
    _ws();
    _value(depth + 1);
    if (_failed) return;
    if (_top > base) {
      const order = _compare(_members[_top - 4]!, _members[_top - 3]!, nameStart, nameEnd);
      if (order === 0) return _fail(); // a duplicate: the reference's rule decides
      if (order > 0) sorted = false;
    }
    if (_top + 4 > _members.length) {
      const next = new Int32Array(_members.length * 2);
      next.set(_members);
      _members = next;
    }
    _members[_top++] = nameStart;
    _members[_top++] = nameEnd;
    _members[_top++] = outStart;
    _members[_top++] = _n;
    _ws();
    const c = _t.charCodeAt(_i++);
    if (c === 0x7d) break;
    if (c !== 0x2c) return _fail();
    _byte(0x2c);
    _ws();
  }
  _byte(0x7d);
  if (!sorted && !_reorder(base, objStart)) return;
  _top = base;
}

// Up to this many members, an insertion sort (objects are mostly small); above, Array.prototype.sort, so that a big
// object out of order costs n log n comparisons, not n².
const _INSERTION_MAX = 16;

/** Member indexes of the object stacked from `base` in name order, or undefined on a duplicate name. */
function _insertionSortedMembers(base: number, count: number): number[] | undefined {
  const m = _members;
  const idx: number[] = [];
  for (let k = 0; k < count; k++) {
    const a = base + 4 * k;
    let j = k - 1;
    while (j >= 0) {
      const b = base + 4 * idx[j]!;
      const d = _compare(m[b]!, m[b + 1]!, m[a]!, m[a + 1]!);
      if (d === 0) return undefined;
      if (d < 0) break;
      idx[j + 1] = idx[j]!;
      j--;
    }
    idx[j + 1] = k;
  }
  return idx;
}

/** As {@link _insertionSortedMembers}, with Array.prototype.sort; duplicates end up adjacent and are found after. */
function _sortedMembers(base: number, count: number): number[] | undefined {
  const m = _members;
  const cmp = (x: number, y: number): number => {
    const a = base + 4 * x;
    const b = base + 4 * y;
    return _compare(m[a]!, m[a + 1]!, m[b]!, m[b + 1]!);
  };
  const idx = Array.from({ length: count }, (_, k) => k).sort(cmp);
  for (let k = 1; k < count; k++) if (cmp(idx[k - 1]!, idx[k]!) === 0) return undefined;
  return idx;
}

/** Rewrites the object at `objStart` with the members stacked from `base` in name order; false on a duplicate. */
function _reorder(base: number, objStart: number): boolean {
  const m = _members;
  const count = (_top - base) >> 2;
  const idx = count > _INSERTION_MAX ? _sortedMembers(base, count) : _insertionSortedMembers(base, count);
  if (idx === undefined) {
    _fail(); // a duplicate name: the reference's rule decides
    return false;
  }
  const len = _n - objStart;
  if (_tmp.length < len) _tmp = new Uint8Array(Math.max(len, 2 * _tmp.length));
  _tmp.set(_out.subarray(objStart, _n));
  let n = objStart + 1;
  for (let k = 0; k < count; k++) {
    if (k > 0) _out[n++] = 0x2c;
    const r = base + 4 * idx[k]!;
    const from = m[r + 2]! - objStart;
    const to = m[r + 3]! - objStart;
    _out.set(_tmp.subarray(from, to), n);
    n += to - from;
  }
  return true;
}

function _value(depth: number): void {
  if (depth > _MAX_DEPTH) return _fail();
  const c = _t.charCodeAt(_i);
  switch (c) {
    case 0x7b:
      return _object(depth);
    case 0x5b:
      return _array(depth);
    case 0x22:
      _string();
      return;
    case 0x74:
      return _literal('true');
    case 0x66:
      return _literal('false');
    case 0x6e:
      return _literal('null');
    default:
      return c === 0x2d || (c >= 0x30 && c <= 0x39) ? _number() : _fail();
  }
}

/**
 * UTF-8 of the RFC 8785 canonical form of JSON text, when the text is of the kind described above; otherwise
 * undefined (the reference path then decides, including every error). The bytes are a view of a buffer the next
 * call overwrites: copy them before that.
 * @example _canonicalJsonFast('{"n": 1, "a": [1.50, true]}') // the UTF-8 of '{"a":[1.5,true],"n":1}'
 */
export function _canonicalJsonFast(text: string): Uint8Array | undefined {
  if (!_isWellFormed(text)) return undefined;
  _t = text;
  _i = 0;
  _n = 0;
  _top = 0;
  _failed = false;
  _ws();
  _value(0);
  _ws();
  _t = '';
  const bytes = _failed || _i !== text.length ? undefined : _out.subarray(0, _n);
  // A huge value does not pin its buffers, whether or not the scan finished (the view keeps the old one alive).
  if (_out.length > _KEEP_MAX) _out = new Uint8Array(1024);
  if (_tmp.length > _KEEP_MAX) _tmp = new Uint8Array(1024);
  return bytes;
}
