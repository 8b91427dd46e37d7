// The bus names and the merkle process every end-to-end spec runs: a subject prefix and JetStream streams of its
// own per run (never the production `ms.*` / `MS_*`), and merkle configured against them.
import { ServiceProcess } from '@merklesync/testkit';

/** One pipeline's subject prefix and streams. */
export interface BusNames {
  readonly prefix: string;
  readonly streams: { readonly changes: string; readonly roots: string; readonly checkpoints: string; readonly dlq: string };
}

/**
 * Unique bus names for a run: prefix `e2e<tag><run>`, streams `E2E<TAG>_<run>_CHANGES` and so on.
 * @example busNames('mongo', run).streams.changes // 'E2EMONGO_1a2b3c4d_CHANGES'
 */
export function busNames(tag: string, run: string): BusNames {
  const s = (what: string): string => `E2E${tag.toUpperCase()}_${run}_${what}`;
  return { prefix: `e2e${tag}${run}`, streams: { changes: s('CHANGES'), roots: s('ROOTS'), checkpoints: s('CHECKPOINTS'), dlq: s('DLQ') } };
}

/**
 * The built merkle service (not started) on `databaseUrl`, consuming `bus`, signing with `keyFile` every 200 ms.
 * @example const merkle = merkleProcess({ databaseUrl, nats: NATS, bus, consumer: `merkle_${run}`, keyFile })
 */
export function merkleProcess(o: { databaseUrl: string; nats: string; bus: BusNames; consumer: string; keyFile: string }): ServiceProcess {
  return new ServiceProcess('merkle', {
    MERKLE_DATABASE_URL: o.databaseUrl,
    MERKLE_NATS_SERVERS: o.nats,
    MERKLE_SUBJECT_PREFIX: o.bus.prefix,
    MERKLE_CHANGES_STREAM: o.bus.streams.changes,
    MERKLE_ROOTS_STREAM: o.bus.streams.roots,
    MERKLE_CHECKPOINTS_STREAM: o.bus.streams.checkpoints,
    MERKLE_DLQ_STREAM: o.bus.streams.dlq,
    MERKLE_CONSUMER: o.consumer,
    MERKLE_CHECKPOINT_KEY_FILE: o.keyFile,
    MERKLE_CHECKPOINT_EVERY_MS: '200',
  });
}
