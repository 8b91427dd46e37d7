import type pg from 'pg';
import { SourceError, SourceErrorCode } from './errors.ts';

/** Configuration of a `PgLogicalSource`; validated once by `resolveSourceConfig`. */
export interface PgLogicalSourceConfig {
  /** node-postgres connection settings of the source database (a replication connection is derived from them). */
  connection: Pick<pg.ClientConfig, 'host' | 'port' | 'user' | 'password' | 'database' | 'ssl' | 'connectionTimeoutMillis'>;
  /** Publication name; created `FOR TABLE <tables>` when absent (see `createPublication`). */
  publication: string;
  /** Logical replication slot name (cluster-wide: `[a-z0-9_]{1,63}`). */
  slot: string;
  /** Tables to capture, `schema.table` or `table` (public). Omitted: every table of the (existing) publication. */
  tables?: readonly string[];
  /** Create the publication when it does not exist (default true). */
  createPublication?: boolean;
  /** Bounds of one batch: changes and bytes of value text (defaults 1000 and 1 MiB). */
  batch?: { maxChanges?: number; maxBytes?: number };
  /**
   * Backpressure: at most this many batches read ahead and delivered but not yet acknowledged (default 64).
   * Reading from Postgres pauses at the bound, so memory stays bounded however slow the consumer is.
   */
  maxUnackedBatches?: number;
  /** How unchanged TOASTed values are handled (default 'require-full'; README "TOAST"). */
  toast?: 'require-full' | 'mark-unchanged';
  /** Interval of standby status updates (keeps the walsender from timing out while paused; default 10 s). */
  statusIntervalMs?: number;
  /** Reconnects of the replication stream before failing with CONNECTION_LOST (default 5, backoff 100 ms doubling to 5 s). */
  reconnectAttempts?: number;
}

/** The validated configuration with defaults filled in. */
export interface ResolvedSourceConfig {
  connection: PgLogicalSourceConfig['connection'];
  publication: string;
  slot: string;
  tables: { schema: string; table: string }[] | null;
  createPublication: boolean;
  maxChanges: number;
  maxBytes: number;
  maxUnackedBatches: number;
  toast: 'require-full' | 'mark-unchanged';
  statusIntervalMs: number;
  reconnectAttempts: number;
}

function _bad(field: string, why: string): SourceError {
  return new SourceError(SourceErrorCode.InvalidConfig, `${field}: ${why}`);
}

function _posInt(field: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw _bad(field, 'must be a positive integer');
  return v;
}

/**
 * Validates a source configuration and fills in defaults.
 * @throws SourceError(INVALID_CONFIG) naming the bad field.
 * @example resolveSourceConfig({ connection: { host: '127.0.0.1', database: 'app' }, publication: 'ms_pub', slot: 'ms_slot', tables: ['public.users'] })
 */
export function resolveSourceConfig(config: PgLogicalSourceConfig): ResolvedSourceConfig {
  if (typeof config !== 'object' || config === null) throw _bad('config', 'must be an object');
  if (typeof config.connection !== 'object' || config.connection === null) throw _bad('connection', 'must be an object');
  if (typeof config.publication !== 'string' || !/^.{1,63}$/u.test(config.publication)) throw _bad('publication', 'must be 1..63 characters');
  if (typeof config.slot !== 'string' || !/^[a-z0-9_]{1,63}$/.test(config.slot)) throw _bad('slot', 'must match [a-z0-9_]{1,63}');
  let tables: ResolvedSourceConfig['tables'] = null;
  if (config.tables !== undefined) {
    if (!Array.isArray(config.tables) || config.tables.length === 0) throw _bad('tables', 'must be a non-empty array when given');
    tables = config.tables.map((t: unknown) => {
      if (typeof t !== 'string') throw _bad('tables', 'entries must be strings');
      const parts = t.split('.');
      if (parts.length === 1 && parts[0]) return { schema: 'public', table: parts[0] };
      if (parts.length === 2 && parts[0] && parts[1]) return { schema: parts[0], table: parts[1] };
      throw _bad('tables', `bad table name ${JSON.stringify(t)} (use "schema.table")`);
    });
  }
  const toast = config.toast ?? 'require-full';
  if (toast !== 'require-full' && toast !== 'mark-unchanged') throw _bad('toast', "must be 'require-full' or 'mark-unchanged'");
  return {
    connection: config.connection,
    publication: config.publication,
    slot: config.slot,
    tables,
    createPublication: config.createPublication ?? true,
    maxChanges: _posInt('batch.maxChanges', config.batch?.maxChanges, 1000),
    maxBytes: _posInt('batch.maxBytes', config.batch?.maxBytes, 1 << 20),
    maxUnackedBatches: _posInt('maxUnackedBatches', config.maxUnackedBatches, 64),
    toast,
    statusIntervalMs: _posInt('statusIntervalMs', config.statusIntervalMs, 10_000),
    reconnectAttempts: config.reconnectAttempts === 0 ? 0 : _posInt('reconnectAttempts', config.reconnectAttempts, 5),
  };
}
