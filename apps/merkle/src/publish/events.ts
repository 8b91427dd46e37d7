// Builds the bus messages the service publishes (libs/protocol events), with deterministic msgIds so a
// retried publish is deduplicated by the stream.
import type { BatchMessage } from '@merklesync/messaging';
import type { HashSuiteName } from '@merklesync/merkle';
import { HashSuite, encodeEvent, newEvent } from '@merklesync/protocol';
import type { StoredCheckpoint } from '@merklesync/store';
import type { BusSubjects } from '../bus-subjects.ts';
import type { SealedGroup } from '../state/merkle-state.ts';

/** The protocol's HashSuite code of a suite name. */
function protoSuite(name: HashSuiteName): HashSuite {
  return name === 'blake3' ? HashSuite.BLAKE3 : HashSuite.SHA256;
}

/**
 * One RootUpdate per table a committed group of messages changed, to `<prefix>.roots.<source>.<table>`:
 * the table's root after the group (the only one the store persists nodes for, so the one a proof can be
 * asked against), the state root, log size and log root after the group, the group's last sequence, and the
 * number of the table's changes in the group. A group of one message gives exactly that message's roots.
 * @throws ProtocolError when a field is out of the protocol's limits (a bug, not input).
 * @example await outbox.send(rootUpdateMessages(subjects, 'sha256', sealed, lastSeq))
 */
export function rootUpdateMessages(subjects: BusSubjects, suite: HashSuiteName, group: Pick<SealedGroup, 'tables' | 'last'>, sequence: number): BatchMessage[] {
  const { last } = group;
  return group.tables.map((t) => ({
    subject: subjects.roots(t.source, t.table),
    msgId: `root:${subjects.roots(t.source, t.table)}:${sequence}`,
    payload: encodeEvent(
      'root-update',
      newEvent('root-update', {
        source: t.source,
        table: t.table,
        hashSuite: protoSuite(suite),
        tableRoot: t.root,
        stateRoot: last.stateRoot,
        logSize: BigInt(last.logSize),
        logRoot: last.logRoot,
        sequence: BigInt(sequence),
        blockCount: BigInt(t.count),
      }),
    ),
  }));
}

/**
 * The CheckpointEvent of a stored checkpoint, to `<prefix>.checkpoints`.
 * @throws ProtocolError when the note does not match its parsed fields (a bug, not input).
 * @example await outbox.send([checkpointMessage(subjects, 'sha256', origin, stored)])
 */
export function checkpointMessage(subjects: BusSubjects, suite: HashSuiteName, origin: string, cp: StoredCheckpoint): BatchMessage {
  return {
    subject: subjects.checkpoints,
    msgId: `checkpoint:${origin}:${cp.seq}`,
    payload: encodeEvent(
      'checkpoint',
      newEvent('checkpoint', {
        checkpoint: {
          signedNote: new TextEncoder().encode(cp.note),
          origin,
          logSize: BigInt(cp.logSize),
          logRoot: cp.logRoot,
          stateRoot: cp.stateRoot,
          sequence: BigInt(cp.seq),
          hashSuite: protoSuite(suite),
        },
      }),
    ),
  };
}
