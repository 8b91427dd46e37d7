// The protocol's subject scheme (libs/protocol subjects.ts) under a configurable first token, so a test (or a
// second deployment on one NATS) can run beside the real `ms.*` streams without overlapping them.
import { CHECKPOINTS_SUBJECT, SUBJECT_PREFIX, changesSubject, deadLetterSubject, rootsSubject } from '@merklesync/protocol';

/** Subjects of one prefix. */
export interface BusSubjects {
  readonly prefix: string;
  changes(source: string, table: string): string;
  roots(source: string, table: string): string;
  /** Everything the roots stream captures. */
  readonly rootsAll: string;
  readonly checkpoints: string;
  deadLetter(stream: string): string;
  /** Everything the dead-letter stream captures. */
  readonly deadLetterAll: string;
}

/**
 * The subject scheme with `prefix` in place of `ms`.
 * @throws TypeError / RangeError as the protocol's subject functions (invalid names).
 * @example busSubjects('ms').roots('pg', 'public.users') // 'ms.roots.pg.public~2Eusers'
 */
export function busSubjects(prefix: string): BusSubjects {
  const re = (s: string): string => prefix + s.slice(SUBJECT_PREFIX.length);
  return {
    prefix,
    changes: (source, table) => re(changesSubject(source, table)),
    roots: (source, table) => re(rootsSubject(source, table)),
    rootsAll: `${prefix}.roots.>`,
    checkpoints: re(CHECKPOINTS_SUBJECT),
    deadLetter: (stream) => re(deadLetterSubject(stream)),
    deadLetterAll: `${prefix}.dlq.>`,
  };
}
