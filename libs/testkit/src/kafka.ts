// Kafka / Kafka Connect / Debezium helpers for integration tests, e2e and bench (servers from test/infra/kafka.sh).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './service-process.ts';

/** Where test/infra/kafka.sh runs the broker and Connect (overridable for other set-ups). */
export const KAFKA = {
  brokers: (process.env['MERKLESYNC_KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(','),
  connectUrl: process.env['MERKLESYNC_CONNECT_URL'] ?? 'http://127.0.0.1:18083',
};

/** True when CI (or the developer) says the Kafka suites must run: then a missing Kafka fails them instead of skipping. */
export const kafkaRequired = Boolean(process.env['CI'] || process.env['MERKLESYNC_REQUIRE_KAFKA']);

/** True when Kafka Connect answers with the Debezium PostgreSQL connector installed. */
export async function kafkaAvailable(): Promise<boolean> {
  try {
    const r = await fetch(`${KAFKA.connectUrl}/connector-plugins`, { signal: AbortSignal.timeout(2000) });
    return r.ok && (await r.text()).includes('io.debezium.connector.postgresql.PostgresConnector');
  } catch {
    return false;
  }
}

/** The instance-specific settings of deploy/debezium/connector.json (its `${env:…}` placeholders). */
export interface ConnectorInstance {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  topicPrefix: string;
  tables: string[];
  slot: string;
  publication: string;
}

/**
 * deploy/debezium/connector.json as committed, with only its `${env:MERKLESYNC_*}` placeholders filled in.
 * @throws Error when a placeholder is left over or unknown (the file and this helper disagree).
 */
export function debeziumConnectorConfig(i: ConnectorInstance): Record<string, string> {
  const file = JSON.parse(readFileSync(join(ROOT, 'deploy', 'debezium', 'connector.json'), 'utf8')) as Record<string, string>;
  const values: Record<string, string> = {
    MERKLESYNC_PG_HOST: i.host,
    MERKLESYNC_PG_PORT: String(i.port),
    MERKLESYNC_PG_USER: i.user,
    MERKLESYNC_PG_PASSWORD: i.password,
    MERKLESYNC_PG_DATABASE: i.database,
    MERKLESYNC_TOPIC_PREFIX: i.topicPrefix,
    MERKLESYNC_TABLES: i.tables.join(','),
    MERKLESYNC_SLOT: i.slot,
    MERKLESYNC_PUBLICATION: i.publication,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(file)) {
    out[k] = v.replace(/\$\{env:([A-Z_]+)\}/g, (_, name: string) => {
      const x = values[name];
      if (x === undefined) throw new Error(`deploy/debezium/connector.json: unknown placeholder ${name} in ${k}`);
      return x;
    });
  }
  return out;
}

async function _connect(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const r = await fetch(`${KAFKA.connectUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await r.text();
  return { status: r.status, json: text ? (JSON.parse(text) as unknown) : null };
}

/**
 * Registers (or updates) a connector through the Kafka Connect REST API and waits until it and its task run.
 * @throws Error with Connect's answer when registration fails or the task does not reach RUNNING in `ms`.
 */
export async function registerConnector(name: string, config: Record<string, string>, ms = 60_000): Promise<void> {
  const put = await _connect('PUT', `/connectors/${encodeURIComponent(name)}/config`, config);
  if (put.status >= 300) throw new Error(`Connect refused connector ${name}: ${put.status} ${JSON.stringify(put.json)}`);
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await _connect('GET', `/connectors/${encodeURIComponent(name)}/status`);
    const st = s.json as { connector?: { state?: string }; tasks?: { state?: string; trace?: string }[] } | null;
    const failed = st?.tasks?.find((t) => t.state === 'FAILED');
    if (failed) throw new Error(`connector ${name} task failed: ${failed.trace?.slice(0, 2000)}`);
    if (st?.connector?.state === 'RUNNING' && (st.tasks?.length ?? 0) > 0 && st.tasks!.every((t) => t.state === 'RUNNING')) return;
    if (Date.now() > deadline) throw new Error(`connector ${name} not RUNNING within ${ms} ms: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Deletes a connector (idempotent). Its replication slot stays: drop it (createTestDb's dispose does). */
export async function deleteConnector(name: string): Promise<void> {
  await _connect('DELETE', `/connectors/${encodeURIComponent(name)}`).catch(() => undefined);
}
