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

/** A parsed JSON value whose numbers are {@link JsonNumber}s. */
export type ExactJson = null | boolean | string | JsonNumber | ExactJson[] | { [key: string]: ExactJson };

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
  const parsed: unknown = JSON.parse(text, _reviver);
  return parsed as ExactJson;
}

/** True for a JSON object (not an array, not null). */
export function isJsonObject(v: ExactJson | undefined): v is { [key: string]: ExactJson } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);
}

/** The integer a JSON number or decimal string holds, as a bigint; undefined for anything else. */
export function jsonBigInt(v: ExactJson | undefined): bigint | undefined {
  const t = v instanceof JsonNumber ? v.text : typeof v === 'string' ? v : undefined;
  return t !== undefined && /^-?[0-9]+$/.test(t) ? BigInt(t) : undefined;
}

/** A JSON number (or numeric string) as a safe integer; undefined otherwise. */
export function jsonInt(v: ExactJson | undefined): number | undefined {
  const b = jsonBigInt(v);
  return b !== undefined && b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : undefined;
}
