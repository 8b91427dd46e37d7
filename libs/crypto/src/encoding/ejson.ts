// MongoDB values as canonical Extended JSON v2, re-serialized in one canonical text: members in document
// order (BSON documents are ordered, and MongoDB compares them in order), no whitespace, strings escaped as
// in RFC 8785, and each BSON type wrapper rewritten to one canonical spelling.
import { fromBase64, toBase64 } from '@merklesync/merkle';
import { _isJNum, _isJObj, _parseJson, type _JNode } from './_json.ts';
import { _jcsNumber, _jcsString } from './jcs.ts';
import { _I64_MAX, _I64_MIN, _toBigInt, _unsupported } from './_util.ts';

const _W = 'ejson';
const _WRAPPERS = new Set([
  '$oid', '$symbol', '$numberInt', '$numberLong', '$numberDouble', '$numberDecimal', '$binary', '$uuid',
  '$code', '$scope', '$timestamp', '$regularExpression', '$dbPointer', '$date', '$minKey', '$maxKey', '$undefined',
]);

function _str(v: _JNode | undefined, what: string): string {
  if (typeof v !== 'string') _unsupported(_W, `${what} must be a string`);
  return v;
}

function _obj(v: _JNode | undefined, what: string, keys: readonly string[]): Map<string, _JNode> {
  if (v === undefined || !_isJObj(v)) return _unsupported(_W, `${what} must be an object`);
  const got = v.members.map((m) => m[0]);
  if (got.length !== keys.length || !keys.every((k) => got.includes(k))) _unsupported(_W, `${what} must have exactly the members ${keys.join(', ')}`);
  return new Map(v.members);
}

/** Integer strings, printed canonically (no '+', no leading zeros, no '-0'). */
function _intString(v: _JNode | undefined, what: string, min: bigint, max: bigint): string {
  const s = _str(v, what);
  if (!/^[+-]?[0-9]+$/.test(s)) _unsupported(_W, `${what} must be a decimal integer string`);
  return String(_toBigInt(`${_W} ${what}`, BigInt(s), min, max));
}

/** ECMAScript shortest round-trip form; integral values get '.0' as the MongoDB drivers print them. */
function _double(s: string): string {
  if (s === 'NaN' || s === 'Infinity' || s === '-Infinity') return s;
  if (!/^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(s)) _unsupported(_W, `bad $numberDouble ${JSON.stringify(s)}`);
  const x = Number(s);
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (Object.is(x, -0)) return '-0.0';
  const out = _jcsNumber(_W, x);
  return Number.isInteger(x) && Math.abs(x) < 1e21 ? out + '.0' : out;
}

/** Decimal128: parse into coefficient and exponent, print with the Decimal128 spec's to-string rule. */
function _decimal128(s: string): string {
  if (/^[+-]?(NaN)$/i.test(s)) return 'NaN';
  if (/^\+?(Inf|Infinity)$/i.test(s)) return 'Infinity';
  if (/^-(Inf|Infinity)$/i.test(s)) return '-Infinity';
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(s);
  if (!m || (m[2] ?? '') + (m[3] ?? '') === '') return _unsupported(_W, `bad $numberDecimal ${JSON.stringify(s)}`);
  let coef = ((m[2] ?? '') + (m[3] ?? '')).replace(/^0+/, '') || '0';
  let exp = Number(m[4] ?? 0) - (m[3] ?? '').length;
  // Exact values only: trailing zeros of an over-long coefficient may be absorbed into the exponent.
  while (coef.length > 34 && coef.endsWith('0')) {
    coef = coef.slice(0, -1);
    exp++;
  }
  if (coef === '0') exp = Math.min(Math.max(exp, -6176), 6111);
  while (exp > 6111 && coef !== '0' && coef.length < 34) {
    coef += '0';
    exp--;
  }
  if (coef.length > 34 || exp < -6176 || exp > 6111) _unsupported(_W, `$numberDecimal ${JSON.stringify(s)} is not an exact Decimal128`);
  const sign = m[1] === '-' ? '-' : '';
  const adjusted = exp + coef.length - 1;
  let body: string;
  if (exp <= 0 && adjusted >= -6) {
    if (exp === 0) body = coef;
    else {
      const padded = coef.padStart(-exp + 1, '0');
      body = padded.slice(0, padded.length + exp) + '.' + padded.slice(padded.length + exp);
    }
  } else {
    body = coef.length > 1 ? coef[0] + '.' + coef.slice(1) : coef;
    body += 'E' + (adjusted >= 0 ? '+' : '') + String(adjusted);
  }
  return sign + body;
}

function _u32(v: _JNode | undefined, what: string): string {
  if (v === undefined || !_isJNum(v) || !/^(0|[1-9][0-9]*)$/.test(v.num) || Number(v.num) > 0xffffffff) _unsupported(_W, `${what} must be a uint32`);
  return String(Number(v.num));
}

function _wrapper(members: [string, _JNode][], depth: number): string {
  const first = members[0]![0];
  const m = new Map(members);
  const only = (...keys: string[]): void => {
    if (members.length !== keys.length || !keys.every((k) => m.has(k))) _unsupported(_W, `${first} wrapper must have exactly ${keys.join(', ')}`);
  };
  const wrap = (k: string, inner: string): string => `{${_jcsString(_W, k)}:${inner}}`;
  if (m.has('$code')) {
    if (members.length === 2) {
      only('$code', '$scope');
      const scope = m.get('$scope')!;
      if (!_isJObj(scope)) _unsupported(_W, '$scope must be a document');
      return `{"$code":${_jcsString(_W, _str(m.get('$code'), '$code'))},"$scope":${_node(scope, depth + 1)}}`;
    }
    only('$code');
    return wrap('$code', _jcsString(_W, _str(m.get('$code'), '$code')));
  }
  if (m.has('$scope')) _unsupported(_W, '$scope without $code');
  only(first);
  const v = m.get(first);
  switch (first) {
    case '$oid': {
      const s = _str(v, '$oid');
      if (!/^[0-9a-fA-F]{24}$/.test(s)) _unsupported(_W, '$oid must be 24 hex digits');
      return wrap(first, `"${s.toLowerCase()}"`);
    }
    case '$symbol':
      return wrap(first, _jcsString(_W, _str(v, '$symbol')));
    case '$numberInt':
      return wrap(first, `"${_intString(v, '$numberInt', -(2n ** 31n), 2n ** 31n - 1n)}"`);
    case '$numberLong':
      return wrap(first, `"${_intString(v, '$numberLong', _I64_MIN, _I64_MAX)}"`);
    case '$numberDouble':
      return wrap(first, `"${_double(_str(v, '$numberDouble'))}"`);
    case '$numberDecimal':
      return wrap(first, `"${_decimal128(_str(v, '$numberDecimal'))}"`);
    case '$binary': {
      const b = _obj(v, '$binary', ['base64', 'subType']);
      let bytes: Uint8Array;
      try {
        bytes = fromBase64(_str(b.get('base64'), '$binary.base64'));
      } catch {
        return _unsupported(_W, '$binary.base64 is not canonical base64');
      }
      const st = _str(b.get('subType'), '$binary.subType');
      if (!/^[0-9a-fA-F]{1,2}$/.test(st)) _unsupported(_W, '$binary.subType must be 1-2 hex digits');
      return `{"$binary":{"base64":"${toBase64(bytes)}","subType":"${st.toLowerCase().padStart(2, '0')}"}}`;
    }
    case '$uuid': {
      // Parsers accept $uuid; its canonical output form is $binary subtype 04.
      const s = _str(v, '$uuid');
      if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s)) _unsupported(_W, 'bad $uuid');
      const hex = s.replace(/-/g, '');
      const bytes = Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
      return `{"$binary":{"base64":"${toBase64(bytes)}","subType":"04"}}`;
    }
    case '$timestamp': {
      const t = _obj(v, '$timestamp', ['t', 'i']);
      return `{"$timestamp":{"t":${_u32(t.get('t'), '$timestamp.t')},"i":${_u32(t.get('i'), '$timestamp.i')}}}`;
    }
    case '$regularExpression': {
      const r = _obj(v, '$regularExpression', ['pattern', 'options']);
      const opts = _str(r.get('options'), '$regularExpression.options');
      if (!/^[ilmsux]*$/.test(opts) || new Set(opts).size !== opts.length) _unsupported(_W, 'bad regular expression options');
      const sorted = [...opts].sort().join('');
      return `{"$regularExpression":{"pattern":${_jcsString(_W, _str(r.get('pattern'), 'pattern'))},"options":"${sorted}"}}`;
    }
    case '$dbPointer': {
      const p = _obj(v, '$dbPointer', ['$ref', '$id']);
      const id = p.get('$id')!;
      if (!_isJObj(id) || id.members.length !== 1 || id.members[0]![0] !== '$oid') _unsupported(_W, '$dbPointer.$id must be an $oid');
      return `{"$dbPointer":{"$ref":${_jcsString(_W, _str(p.get('$ref'), '$ref'))},"$id":${_wrapper(id.members, depth + 1)}}}`;
    }
    case '$date': {
      if (v === undefined || !_isJObj(v)) return _unsupported(_W, '$date must be {"$numberLong": ...} (canonical mode)');
      const d = _obj(v, '$date', ['$numberLong']);
      return `{"$date":{"$numberLong":"${_intString(d.get('$numberLong'), '$date', _I64_MIN, _I64_MAX)}"}}`;
    }
    case '$minKey':
    case '$maxKey':
      if (!(v !== undefined && _isJNum(v) && v.num === '1')) _unsupported(_W, `${first} must be 1`);
      return wrap(first, '1');
    case '$undefined':
      if (v !== true) _unsupported(_W, '$undefined must be true');
      return wrap(first, 'true');
    default:
      return _unsupported(_W, `unknown wrapper ${first}`);
  }
}

function _node(n: _JNode, depth: number): string {
  if (n === null) return 'null';
  if (n === true || n === false) return String(n);
  if (typeof n === 'string') return _jcsString(_W, n);
  if (Array.isArray(n)) return '[' + n.map((x) => _node(x, depth + 1)).join(',') + ']';
  if (_isJNum(n)) return _unsupported(_W, `bare number ${n.num} (canonical mode wraps every number: $numberInt, $numberLong, $numberDouble, $numberDecimal)`);
  if (depth > 512) _unsupported(_W, 'nesting deeper than 512');
  if (n.members.some(([k]) => _WRAPPERS.has(k))) return _wrapper(n.members, depth);
  return '{' + n.members.map(([k, v]) => _jcsString(_W, k) + ':' + _node(v, depth + 1)).join(',') + '}';
}

const _INDEX_KEY = /^(0|[1-9][0-9]*)$/;

/** A JSON.parse result → parse tree; refuses objects whose member order JS has already changed. */
function _fromValue(v: unknown, depth: number): _JNode {
  if (depth > 512) _unsupported(_W, 'nesting deeper than 512');
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) _unsupported(_W, `${v} is not a JSON number`);
    return { num: String(v) };
  }
  if (Array.isArray(v)) return v.map((x) => _fromValue(x, depth + 1));
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) _unsupported(_W, 'only plain objects (JSON.parse of canonical EJSON), not BSON classes');
    const keys = Object.keys(v);
    // JS puts array-index keys first whatever the document order was; that order is lost, so refuse.
    if (keys.some((k) => _INDEX_KEY.test(k) && Number(k) < 2 ** 32 - 1)) _unsupported(_W, 'document has integer-like field names, whose order a JS object does not keep: pass the EJSON text');
    const obj = v as Record<string, unknown>;
    return { members: keys.map((k) => [k, _fromValue(obj[k], depth + 1)]) };
  }
  return _unsupported(_W, `${typeof v} is not a JSON value`);
}

/**
 * The canonical text of a MongoDB value given in canonical Extended JSON v2 (text, or the `JSON.parse` of
 * it — not the BSON class instances `EJSON.parse` returns). Field order is kept; numbers must be wrapped
 * (relaxed-mode bare numbers and ISO `$date` strings are refused, since they lose the BSON type).
 * @throws CryptoError(MALFORMED_INPUT) for text that is not JSON; CryptoError(UNSUPPORTED_VALUE) for non-canonical or invalid EJSON.
 * @example canonicalExtendedJson('{ "_id": {"$oid": "5F1E..."}, "n": {"$numberInt": "007"} }') // '{"_id":{"$oid":"5f1e..."},"n":{"$numberInt":"7"}}'
 */
export function canonicalExtendedJson(input: string | { text: string } | { value: unknown }): string {
  return _canonicalEjson(input, false);
}

/** canonicalExtendedJson, optionally requiring a document (an object that is not a BSON type wrapper). */
export function _canonicalEjson(input: string | { text: string } | { value: unknown }, requireDocument: boolean): string {
  let root: _JNode;
  if (typeof input === 'string') root = _parseJson(_W, input, 'reject');
  else if (typeof input !== 'object' || input === null) throw new TypeError('input must be EJSON text or { text } / { value }');
  else if ('text' in input) {
    if (typeof input.text !== 'string') throw new TypeError('input.text must be a string');
    root = _parseJson(_W, input.text, 'reject');
  } else root = _fromValue(input.value, 0);
  if (requireDocument && (!_isJObj(root) || root.members.some(([k]) => _WRAPPERS.has(k)))) _unsupported(_W, 'a MongoDB document must be an object, not a BSON value');
  return _node(root, 0);
}
