// Canonical row encoding: typed values, Postgres text parsers, RFC 8785 JSON, canonical Extended JSON.
// Byte format: libs/crypto/README.md part A.
export {
  ENCODING_VERSION,
  EncodingKind,
  SCALAR_TYPES,
  ValueTag,
  type ArrayElementType,
  type Infinite,
  type IntervalFields,
  type JsonValue,
  type PgArrayItems,
  type PgColumn,
  type PgType,
  type PgTypedValue,
  type PgValue,
  type ScalarTypeName,
} from './types.ts';
export { encodeValue } from './value.ts';
export { encodeMongoDocument, encodeMongoId, encodePrimaryKey, encodeRow } from './row.ts';
export { fromPgText } from './pg-text.ts';
export { PgTextRowEncoder, type PgTextColumn, type PgTextRowEncoderOptions } from './pg-text-row.ts';
export { PG_TYPE_OIDS, resolvePgType, type ResolvedPgType } from './pg-types.ts';
export { canonicalJson, canonicalJsonText, type CanonicalJsonOptions } from './jcs.ts';
export { canonicalExtendedJson } from './ejson.ts';
export { formatNumeric, parseNumeric, type CanonicalNumeric } from './numeric.ts';
export { daysFromCivil, parsePgDate, parsePgInterval, parsePgTime, parsePgTimestamp, parsePgTimetz } from './datetime.ts';
