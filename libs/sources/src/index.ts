// Public API of @merklesync/sources. Guarantees, snapshot procedure and rules: libs/sources/README.md.
export { PgLogicalSource, type PgLogicalSourceDeps } from './pg-logical-source.ts';
export { resolveSourceConfig, type PgLogicalSourceConfig, type ResolvedSourceConfig } from './config.ts';
export { SourceError, SourceErrorCode } from './errors.ts';
export { MemorySourceStateStore, type SourceState, type SourceStateStore } from './state.ts';
export { formatLsn, parseLsn } from './lsn.ts';
export type { CapturedTable } from './catalog.ts';
export type { BatchPosition, Change, ChangeBatch, RowChange, RowOp, TruncateChange } from './types.ts';
export { encodedRowChange, type EncodedRowChange } from './encoded.ts';
export { DebeziumSource, type DebeziumSourceConfig, type DebeziumSourceDeps, type DebeziumSourceStats } from './debezium/debezium-source.ts';
export { DebeziumAssembler, type OffsetCommit, type RecordRef } from './debezium/assembler.ts';
export { PoisonCode, PoisonRecord, parseDebeziumRecord, type CatalogTable, type DebeziumRecord } from './debezium/record.ts';
export { DEFAULT_VALUE_MODES, ValueDecodeError, decodeValue, type ColumnInfo, type ConnectSchema, type DebeziumValueModes } from './debezium/values.ts';
export { loadPgCatalog } from './debezium/pg-catalog.ts';
export { MemoryResumeTokenStore, MongoChangeStreamSource, MongoResumeTokenStore, type MongoSourceConfig, type MongoSourceDeps, type ResumeTokenStore } from './mongo/mongo-source.ts';
export { DocumentEncodeError, toCanonicalEjson } from './mongo/ejson.ts';
