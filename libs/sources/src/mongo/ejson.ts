// A document as the MongoDB driver decodes it (promoteValues: false, so Int32 / Double / Long keep their BSON type)
// → canonical Extended JSON v2 text, which @merklesync/crypto's encodeMongoDocument commits.
import { BSON } from 'mongodb';

/** A document that cannot be committed exactly; `path` names the field. */
export class DocumentEncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DocumentEncodeError';
  }
}

// JS objects list integer-like keys ("0", "17") first, in numeric order, whatever their order in the BSON
// document; BSON field order is part of a document's identity (the canonical encoding keeps it).
const _INTEGER_LIKE = /^(?:0|[1-9][0-9]{0,9})$/;

function _checkKeys(v: unknown, path: string): void {
  if (typeof v !== 'object' || v === null) return;
  if (Array.isArray(v)) {
    v.forEach((x, i) => _checkKeys(x, `${path}[${i}]`));
    return;
  }
  if ('_bsontype' in v) return; // a BSON value (ObjectId, Int32, Binary, ...): no field names
  if (v instanceof Date || v instanceof RegExp || ArrayBuffer.isView(v)) return;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const p = path === '' ? k : `${path}.${k}`;
    if (_INTEGER_LIKE.test(k) && Number(k) < 4294967295) {
      throw new DocumentEncodeError(`field ${p}: integer-like field names lose their position when decoded into JavaScript; not committed exactly`);
    }
    _checkKeys(x, p);
  }
}

/**
 * Canonical Extended JSON v2 of a decoded document or value.
 * @throws DocumentEncodeError for documents whose field order cannot be known (integer-like field names).
 * @example toCanonicalEjson({ _id: new ObjectId(), n: new Int32(1) }) // '{"_id":{"$oid":"…"},"n":{"$numberInt":"1"}}'
 */
export function toCanonicalEjson(value: unknown): string {
  _checkKeys(value, '');
  return BSON.EJSON.stringify(value, { relaxed: false });
}
