// Internal: a strict RFC 8259 JSON parser that keeps what JSON.parse throws away and canonical encoding
// needs — each number's source text (to refuse silent float loss), member order (EJSON documents are
// ordered) and duplicate members (jsonb keeps the last, json and EJSON reject them).
import { _malformed, _unsupported } from './_util.ts';

/** A parsed number, kept as its source text. */
export interface _JNum {
  readonly num: string;
}
/** A parsed object: members in source order. */
export interface _JObj {
  readonly members: [string, _JNode][];
}
export type _JNode = null | boolean | string | _JNum | _JNode[] | _JObj;

export type _DuplicateKeys = 'reject' | 'last';

const _MAX_DEPTH = 512;
const _NUM_RE = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

export function _isJNum(n: _JNode): n is _JNum {
  return typeof n === 'object' && n !== null && !Array.isArray(n) && 'num' in n;
}
export function _isJObj(n: _JNode): n is _JObj {
  return typeof n === 'object' && n !== null && !Array.isArray(n) && 'members' in n;
}

/** Parses JSON text; MALFORMED_INPUT for bad syntax, UNSUPPORTED_VALUE for lone surrogates / duplicates. */
export function _parseJson(what: string, text: string, duplicates: _DuplicateKeys): _JNode {
  let i = 0;
  const fail = (reason: string): never => _malformed(what, `${reason} at offset ${i}`);
  const ws = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else return;
    }
  };
  const str = (): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) fail('control character in string');
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      i += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const h = text.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(h, 16));
          i += 4;
          break;
        }
        default:
          i -= 2;
          fail('bad escape');
      }
      start = i;
    }
    out += text.slice(start, i);
    i++; // closing quote
    // Surrogate pairs may be written as two \u escapes; only a lone half is unrepresentable.
    for (let k = 0; k < out.length; k++) {
      const c = out.charCodeAt(k);
      if (c >= 0xd800 && c <= 0xdbff) {
        const d = out.charCodeAt(k + 1);
        if (d >= 0xdc00 && d <= 0xdfff) k++;
        else _unsupported(what, 'lone surrogate in string');
      } else if (c >= 0xdc00 && c <= 0xdfff) _unsupported(what, 'lone surrogate in string');
    }
    return out;
  };
  const value = (depth: number): _JNode => {
    if (depth > _MAX_DEPTH) _unsupported(what, `nesting deeper than ${_MAX_DEPTH}`);
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const members: [string, _JNode][] = [];
      const index = new Map<string, number>();
      ws();
      if (text[i] === '}') {
        i++;
        return { members };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a member name');
        const key = str();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        const v = value(depth + 1);
        const at = index.get(key);
        if (at === undefined) {
          index.set(key, members.length);
          members.push([key, v]);
        } else if (duplicates === 'last') members[at] = [key, v];
        else _unsupported(what, `duplicate member ${JSON.stringify(key)}`);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return { members };
        } else fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const items: _JNode[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return items;
      }
      for (;;) {
        items.push(value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return items;
        } else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    _NUM_RE.lastIndex = i;
    const m = _NUM_RE.exec(text);
    if (!m) return fail('unexpected character');
    i += m[0].length;
    return { num: m[0] };
  };
  if (typeof text !== 'string') throw new TypeError(`${what} must be a string`);
  const root = value(0);
  ws();
  if (i !== text.length) fail('trailing characters');
  return root;
}
