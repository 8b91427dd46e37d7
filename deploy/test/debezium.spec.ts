// deploy/debezium: the Kubernetes registration uses connector.json as-is, and connector.json has the settings the
// Debezium source depends on (libs/sources README "Debezium source").
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'debezium');
const read = (f: string): string => readFileSync(join(DIR, f), 'utf8');

describe('deploy/debezium', () => {
  const connector = JSON.parse(read('connector.json')) as Record<string, string>;

  it('connector.json: pgoutput, transaction metadata, heartbeats, source types and lossless value modes', () => {
    expect(connector).toMatchObject({
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'plugin.name': 'pgoutput',
      'provide.transaction.metadata': 'true',
      'column.propagate.source.type': '.*',
      'interval.handling.mode': 'string',
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    });
    expect(['string', 'precise']).toContain(connector['decimal.handling.mode']);
    expect(Number(connector['heartbeat.interval.ms'])).toBeGreaterThan(0);
    // Every instance-specific value is a Connect env-provider placeholder; nothing environment-specific is baked in.
    for (const k of ['database.hostname', 'database.dbname', 'database.password', 'topic.prefix', 'table.include.list', 'slot.name', 'publication.name']) {
      expect(connector[k], k).toMatch(/^\$\{env:MERKLESYNC_[A-Z_]+\}$/);
    }
  });

  it('the Kubernetes registration PUTs that same file to the Connect REST API', () => {
    const k = parse(read('kustomization.yaml')) as { resources: string[]; configMapGenerator: { name: string; files: string[] }[] };
    expect(k.resources).toEqual(['register-connector.yaml']);
    expect(k.configMapGenerator).toEqual([{ name: 'debezium-connector', files: ['connector.json'] }]);
    const job = parse(read('register-connector.yaml')) as {
      kind: string;
      spec: { template: { spec: { containers: { args: string[]; volumeMounts: { name: string; mountPath: string }[] }[]; volumes: { name: string; configMap: { name: string } }[] } } };
    };
    expect(job.kind).toBe('Job');
    const pod = job.spec.template.spec;
    expect(pod.volumes).toEqual([{ name: 'connector', configMap: { name: 'debezium-connector' } }]);
    expect(pod.containers[0]!.volumeMounts[0]).toMatchObject({ name: 'connector', mountPath: '/config' });
    expect(pod.containers[0]!.args.join(' ')).toMatch(/-X PUT .*--data @\/config\/connector\.json .*\/connectors\/\$CONNECTOR\/config/);
  });
});
