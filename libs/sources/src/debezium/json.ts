// Exact JSON for Debezium records: Kafka Connect's JsonConverter writes int64 values (ids, LSNs, timestamps in µs
// and ns) as bare JSON numbers, which JSON.parse would round to doubles above 2^53. Numbers are kept as their
// source text (ES2026 JSON.parse source text access, in Node ≥ 21) and converted where their type is known.

/** A JSON number as it was written: `text` is the exact literal. */
export class JsonNumber {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

/**
 * A parsed JSON value. Numbers are plain `number`s when the text has no number literal a double could round (no
 * run of 16+ digits), else {@link JsonNumber}s with their exact literal.
 */
export type ExactJson = null | boolean | string | number | JsonNumber | ExactJson[] | { [key: string]: ExactJson };

// 15 significant digits always survive a double; integers up to 2^53 (16 digits) too, but not all 16-digit ones.
const _LONG_DIGITS = /[0-9]{16}/;

interface _ReviverContext {
  source?: string;
}

function _reviver(this: unknown, _key: string, value: unknown, context?: _ReviverContext): unknown {
  if (typeof value === 'number') {
    if (context?.source === undefined) throw new Error('JSON.parse source text access is not available (Node >= 21 needed)');
    return new JsonNumber(context.source);
  }
  return value;
}

/**
 * Parses JSON text, keeping every number's exact literal.
 * @throws SyntaxError for text that is not JSON.
 * @example (parseExactJson('{"id": 12345678901234567890}') as { id: JsonNumber }).id.text // '12345678901234567890'
 */
export function parseExactJson(text: string): ExactJson {
  // The reviver costs several times the parse: only pay for it when a literal could lose digits.
  const parsed: unknown = _LONG_DIGITS.test(text) ? JSON.parse(text, _reviver) : JSON.parse(text);
  return parsed as ExactJson;
}

/** The literal of a JSON number (exact for JsonNumber; the shortest round-trip form for a plain number). */
export function numberText(v: number | JsonNumber): string {
  return typeof v === 'number' ? (Object.is(v, -0) ? '-0.0' : String(v)) : v.text;
}

/** True for a JSON object (not an array, not null). */
export function isJsonObject(v: ExactJson | undefined): v is { [key: string]: ExactJson } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);
}

/** The integer a JSON number or decimal string holds, as a bigint; undefined for anything else. */
export function jsonBigInt(v: ExactJson | undefined): bigint | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : undefined;
  const t = v instanceof JsonNumber ? v.text : typeof v === 'string' ? v : undefined;
  return t !== undefined && /^-?[0-9]+$/.test(t) ? BigInt(t) : undefined;
}

/** A JSON number (or numeric string) as a safe integer; undefined otherwise. */
export function jsonInt(v: ExactJson | undefined): number | undefined {
  const b = jsonBigInt(v);
  return b !== undefined && b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : undefined;
}
