// Postgres type names and OIDs (pg_type.typname / oid, stable since 2011 for these built-ins) → the scalar
// names of the typed value model. Arrays are `_` + element typname, as pg_type.typarray names them.
import type { ScalarTypeName } from './types.ts';

/** Built-in OIDs of the supported scalar types and of their array types. */
export const PG_TYPE_OIDS: Readonly<Record<ScalarTypeName, { oid: number; arrayOid: number }>> = {
  bool: { oid: 16, arrayOid: 1000 },
  bytea: { oid: 17, arrayOid: 1001 },
  name: { oid: 19, arrayOid: 1003 },
  int8: { oid: 20, arrayOid: 1016 },
  int2: { oid: 21, arrayOid: 1005 },
  int4: { oid: 23, arrayOid: 1007 },
  text: { oid: 25, arrayOid: 1009 },
  json: { oid: 114, arrayOid: 199 },
  float4: { oid: 700, arrayOid: 1021 },
  float8: { oid: 701, arrayOid: 1022 },
  bpchar: { oid: 1042, arrayOid: 1014 },
  varchar: { oid: 1043, arrayOid: 1015 },
  date: { oid: 1082, arrayOid: 1182 },
  time: { oid: 1083, arrayOid: 1183 },
  timestamp: { oid: 1114, arrayOid: 1115 },
  timestamptz: { oid: 1184, arrayOid: 1185 },
  interval: { oid: 1186, arrayOid: 1187 },
  timetz: { oid: 1266, arrayOid: 1270 },
  numeric: { oid: 1700, arrayOid: 1231 },
  uuid: { oid: 2950, arrayOid: 2951 },
  jsonb: { oid: 3802, arrayOid: 3807 },
};

// SQL-standard spellings (format_type output, Debezium's propagated source types are typnames upper-cased).
const _ALIASES: Record<string, ScalarTypeName> = {
  boolean: 'bool',
  smallint: 'int2',
  integer: 'int4',
  int: 'int4',
  bigint: 'int8',
  real: 'float4',
  'double precision': 'float8',
  decimal: 'numeric',
  'character varying': 'varchar',
  character: 'bpchar',
  char: 'bpchar',
  'timestamp without time zone': 'timestamp',
  'timestamp with time zone': 'timestamptz',
  'time without time zone': 'time',
  'time with time zone': 'timetz',
};

const _BY_OID = new Map<number, { scalar: ScalarTypeName; array: boolean }>();
for (const [name, { oid, arrayOid }] of Object.entries(PG_TYPE_OIDS) as [ScalarTypeName, { oid: number; arrayOid: number }][]) {
  _BY_OID.set(oid, { scalar: name, array: false });
  _BY_OID.set(arrayOid, { scalar: name, array: true });
}

/** A resolved type name: a scalar, or an array of a scalar. */
export interface ResolvedPgType {
  scalar: ScalarTypeName;
  array: boolean;
}

/**
 * Resolves a Postgres type name ('int4', 'INT4', 'integer', '_int4', 'int4[]', 'varchar(20)',
 * 'numeric(10,2)', 'timestamp(3) with time zone') or built-in OID (23, 1007) to a supported scalar type,
 * or an array of one. Type modifiers are dropped: they constrain values, they do not change their form.
 * @returns undefined for an unsupported type.
 * @example resolvePgType('_int4') // { scalar: 'int4', array: true }
 */
export function resolvePgType(type: string | number): ResolvedPgType | undefined {
  if (typeof type === 'number') return _BY_OID.get(type);
  if (typeof type !== 'string') throw new TypeError('type must be a type name or OID');
  let name = type.trim().toLowerCase().replace(/^pg_catalog\./, '');
  let array = false;
  if (name.endsWith('[]')) {
    array = true;
    name = name.slice(0, -2).trim();
  } else if (name.startsWith('_')) {
    array = true;
    name = name.slice(1);
  }
  name = name.replace(/\s*\([0-9,\s]*\)/g, '').replace(/\s+/g, ' ').trim();
  const scalar = _ALIASES[name] ?? (Object.hasOwn(PG_TYPE_OIDS, name) ? (name as ScalarTypeName) : undefined);
  return scalar === undefined ? undefined : { scalar, array };
}
