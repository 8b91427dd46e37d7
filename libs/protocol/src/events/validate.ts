// Semantic rules of every bus event (the README's event catalogue), applied after protobuf decoding and
// before encoding. Each validator throws ProtocolError (INVALID_EVENT, OVERSIZED, UNSUPPORTED_VERSION)
// naming the first offending field; it returns nothing when the event is acceptable.
import { equalBytes, toBase64 } from '@merklesync/merkle';
import { HashSuite, RowOperation, type Checkpoint, type DataBlock, type SourcePosition } from '../gen/merklesync/v1/common_pb.ts';
import type {
  ChangeBatch,
  ChangeEvent,
  CheckpointEvent,
  DataBlockEvent,
  RootUpdate,
  StateCommitmentRecord,
  VerificationResult,
} from '../gen/merklesync/v1/events_pb.ts';
import {
  _bytes,
  _enum,
  _enumValues,
  _hash,
  _hashOrEmpty,
  _invalid,
  _list,
  _name,
  _positive,
  _present,
  _text,
  _treeSize,
  _version,
} from './_checks.ts';
import { EventLimits, SUPPORTED_SCHEMA_VERSIONS } from './limits.ts';

const _strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function _dataBlock(b: DataBlock, f: string): void {
  _name(b.source, `${f}.source`);
  _name(b.table, `${f}.table`);
  _enum(b.op, RowOperation, `${f}.op`);
  _positive(b.rowVersion, `${f}.row_version`);
  if (b.op === RowOperation.TRUNCATE) {
    // A truncate names the table only: the consumer removes every row it holds.
    if (b.mapKey.length !== 0) _invalid(`${f}.map_key`, 'must be empty for a truncate');
    if (b.leafCommitment.length !== 0) _invalid(`${f}.leaf_commitment`, 'must be empty for a truncate');
    if (b.block.length !== 0) _invalid(`${f}.block`, 'must be empty for a truncate');
    return;
  }
  _hash(b.mapKey, `${f}.map_key`);
  if (b.op === RowOperation.DELETE) {
    // A delete removes the key from the map: nothing to decrypt, nothing to commit.
    if (b.leafCommitment.length !== 0) _invalid(`${f}.leaf_commitment`, 'must be empty for a delete');
    if (b.block.length !== 0) _invalid(`${f}.block`, 'must be empty for a delete');
  } else {
    _hash(b.leafCommitment, `${f}.leaf_commitment`);
    _bytes(b.block, `${f}.block`, EventLimits.maxBlockBytes);
  }
}

function _position(p: SourcePosition, f: string): void {
  switch (p.position.case) {
    case 'pgLsn':
      _positive(p.position.value, `${f}.pg_lsn`);
      return;
    case 'opaque':
      _bytes(p.position.value, `${f}.opaque`, EventLimits.maxOpaquePositionBytes);
      return;
    case undefined:
      _invalid(f, 'one of pg_lsn, opaque is required');
  }
}

function _samePosition(a: SourcePosition, b: SourcePosition): boolean {
  if (a.position.case === 'pgLsn' && b.position.case === 'pgLsn') return a.position.value === b.position.value;
  if (a.position.case === 'opaque' && b.position.case === 'opaque') return equalBytes(a.position.value, b.position.value);
  return false;
}

/**
 * Checks a checkpoint's shape and that its parsed copies of origin, log size and log root match the
 * tlog-checkpoint body of the signed note (C2SP tlog-checkpoint: lines 1-3). Signatures, the state-root
 * and sequence extension lines are libs/crypto's to verify.
 */
function _checkpoint(c: Checkpoint, f: string): void {
  _bytes(c.signedNote, `${f}.signed_note`, EventLimits.maxNoteBytes);
  _name(c.origin, `${f}.origin`);
  _treeSize(c.logSize, `${f}.log_size`);
  _hash(c.logRoot, `${f}.log_root`);
  _hash(c.stateRoot, `${f}.state_root`);
  _positive(c.sequence, `${f}.sequence`);
  _enum(c.hashSuite, HashSuite, `${f}.hash_suite`);
  let text: string;
  try {
    text = _strictUtf8.decode(c.signedNote);
  } catch {
    return _invalid(`${f}.signed_note`, 'not UTF-8');
  }
  const split = text.indexOf('\n\n');
  if (split < 0 || split + 2 >= text.length || !text.endsWith('\n')) {
    _invalid(`${f}.signed_note`, 'not a signed note (body, blank line, signature lines)');
  }
  const lines = text.slice(0, split).split('\n');
  if (lines.length < 3) _invalid(`${f}.signed_note`, 'checkpoint body needs origin, size and root lines');
  if (lines[0] !== c.origin) _invalid(`${f}.origin`, 'differs from the note body');
  if (lines[1] !== c.logSize.toString()) _invalid(`${f}.log_size`, 'differs from the note body');
  if (lines[2] !== toBase64(c.logRoot)) _invalid(`${f}.log_root`, 'differs from the note body');
}

/** @internal exported for the event registry; see {@link validateEvent}. */
export function _validateChangeEvent(e: ChangeEvent, f = ''): void {
  _version(e.schemaVersion, `${f}schema_version`);
  _dataBlock(_present(e.block, `${f}block`), `${f}block`);
  _text(e.transactionId, `${f}transaction_id`, EventLimits.maxTransactionIdBytes);
  _position(_present(e.position, `${f}position`), `${f}position`);
  _positive(e.commitTimeUnixMicros, `${f}commit_time_unix_micros`);
}

/**
 * The common case of a batch's change, checked without building any field name (the checks below build one per field
 * they look at, for their messages): a change that agrees with its batch (source, table, transaction and position,
 * which the batch checks validated) and whose own fields are valid. True only when {@link _validateChangeEvent} and the
 * batch's agreement checks would both pass; false sends the change through them, which name the offending field.
 * Truncates always take that path.
 */
function _agreeingChange(e: ChangeEvent, b: ChangeBatch, position: SourcePosition): boolean {
  const k = e.block;
  if (k === undefined || k.source !== b.source || k.table !== b.table || e.transactionId !== b.transactionId) return false;
  if (!SUPPORTED_SCHEMA_VERSIONS.includes(e.schemaVersion) || e.position === undefined || !_samePosition(e.position, position)) return false;
  if (!(e.commitTimeUnixMicros > 0n && k.rowVersion > 0n) || k.mapKey.length !== 32) return false;
  if (k.op === RowOperation.DELETE) return k.leafCommitment.length === 0 && k.block.length === 0;
  if (k.op === RowOperation.UNSPECIFIED || k.op === RowOperation.TRUNCATE || !_enumValues(RowOperation).has(k.op)) return false;
  return k.leafCommitment.length === 32 && k.block.length > 0 && k.block.length <= EventLimits.maxBlockBytes;
}

/** @internal */
export function _validateChangeBatch(b: ChangeBatch): void {
  _version(b.schemaVersion, 'schema_version');
  _name(b.source, 'source');
  _name(b.table, 'table');
  _text(b.transactionId, 'transaction_id', EventLimits.maxTransactionIdBytes);
  const position = _present(b.position, 'position');
  _position(position, 'position');
  if (b.partCountPending) {
    // More parts follow and the producer does not know how many yet: the count arrives with a later part.
    if (b.partCount !== 0) _invalid('part_count', 'must be 0 while part_count_pending');
  } else {
    if (b.partCount < 1) _invalid('part_count', 'required (must be >= 1)');
    if (b.partIndex >= b.partCount) _invalid('part_index', `must be < part_count (${b.partCount})`);
  }
  _list(b.events.length, 'events', EventLimits.maxBatchEvents, 1);
  b.events.forEach((e, i) => {
    if (_agreeingChange(e, b, position)) return;
    const f = `events[${i}].`;
    _validateChangeEvent(e, f);
    // The batch header is what routing and dedup use: every event must agree with it.
    if (e.block?.source !== b.source) _invalid(`${f}block.source`, 'differs from the batch source');
    if (e.block.table !== b.table) _invalid(`${f}block.table`, 'differs from the batch table');
    if (e.transactionId !== b.transactionId) _invalid(`${f}transaction_id`, 'differs from the batch transaction_id');
    if (e.position !== undefined && !_samePosition(e.position, position)) _invalid(`${f}position`, 'differs from the batch position');
  });
}

/** @internal */
export function _validateDataBlockEvent(e: DataBlockEvent): void {
  _version(e.schemaVersion, 'schema_version');
  _dataBlock(_present(e.block, 'block'), 'block');
  _positive(e.sequence, 'sequence');
}

/** @internal */
export function _validateRootUpdate(r: RootUpdate): void {
  _version(r.schemaVersion, 'schema_version');
  _name(r.source, 'source');
  _name(r.table, 'table');
  _enum(r.hashSuite, HashSuite, 'hash_suite');
  _hash(r.tableRoot, 'table_root');
  _hash(r.stateRoot, 'state_root');
  _treeSize(r.logSize, 'log_size');
  _hash(r.logRoot, 'log_root');
  _positive(r.sequence, 'sequence');
}

/** @internal */
export function _validateCheckpointEvent(e: CheckpointEvent): void {
  _version(e.schemaVersion, 'schema_version');
  _checkpoint(_present(e.checkpoint, 'checkpoint'), 'checkpoint');
}

/** @internal */
export function _validateStateCommitmentRecord(r: StateCommitmentRecord): void {
  _version(r.schemaVersion, 'schema_version');
  _text(r.transactionId, 'transaction_id', EventLimits.maxTransactionIdBytes);
  _positive(r.querySequence, 'query_sequence');
  _enum(r.hashSuite, HashSuite, 'hash_suite');
  _hash(r.preRoot, 'pre_root');
  _hash(r.postRootClaimed, 'post_root_claimed');
  _bytes(r.preState, 'pre_state', EventLimits.maxBlockBytes);
  _list(r.warnings.length, 'warnings', EventLimits.maxWarnings);
  r.warnings.forEach((w, i) => _text(w, `warnings[${i}]`, EventLimits.maxWarningBytes));
  _positive(r.commitTimeUnixMicros, 'commit_time_unix_micros');
  _bytes(r.statements, 'statements', EventLimits.maxBlockBytes);
}

/** @internal */
export function _validateVerificationResult(r: VerificationResult): void {
  _version(r.schemaVersion, 'schema_version');
  _text(r.transactionId, 'transaction_id', EventLimits.maxTransactionIdBytes);
  _positive(r.querySequence, 'query_sequence');
  _enum(r.hashSuite, HashSuite, 'hash_suite');
  _hash(r.preRoot, 'pre_root');
  _hash(r.postRootClaimed, 'post_root_claimed');
  _hashOrEmpty(r.postRootCalculated, 'post_root_calculated');
  _text(r.error, 'error', EventLimits.maxErrorBytes, false);
  _list(r.mismatches.length, 'mismatches', EventLimits.maxMismatchTables);
  r.mismatches.forEach((m, i) => {
    const f = `mismatches[${i}]`;
    _name(m.table, `${f}.table`);
    _hash(m.claimedRoot, `${f}.claimed_root`);
    _hash(m.calculatedRoot, `${f}.calculated_root`);
    _list(m.keys.length, `${f}.keys`, EventLimits.maxMismatchKeys);
    m.keys.forEach((k, j) => {
      _hash(k.mapKey, `${f}.keys[${j}].map_key`);
      _hashOrEmpty(k.claimedLeaf, `${f}.keys[${j}].claimed_leaf`);
      _hashOrEmpty(k.calculatedLeaf, `${f}.keys[${j}].calculated_leaf`);
      if (equalBytes(k.claimedLeaf, k.calculatedLeaf)) _invalid(`${f}.keys[${j}]`, 'claimed and calculated leaves are equal');
    });
  });
  _positive(r.verifiedAtUnixMicros, 'verified_at_unix_micros');
  // The verdict must be the one the roots state, so a consumer cannot be told "success" for different roots.
  const ran = r.postRootCalculated.length !== 0;
  const equal = ran && equalBytes(r.postRootCalculated, r.postRootClaimed);
  if (r.success !== equal) _invalid('success', equal ? 'false although the roots are equal' : 'true although the roots differ or the replay did not run');
  if (r.success && r.mismatches.length !== 0) _invalid('mismatches', 'must be empty on success');
  if (r.success && r.error.length !== 0) _invalid('error', 'must be empty on success');
  if (!ran && r.error.length === 0) _invalid('error', 'required when post_root_calculated is empty');
}
