// Throughput and latency of the built prover (dist/apps/prover/main.js), one then two instances, with
// requests from one local client. Run on purpose (not a test):
//   node tools/build-app.mjs prover && node apps/prover/test/perf/measure.ts [keys=50000] [seconds=10] [concurrency=64]
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { create, toBinary } from '@bufbuild/protobuf';
import { connect } from '@nats-io/transport-node';
import { GenerateProofRequestSchema } from '@merklesync/protocol';
import { ProverRequestKind } from '../../src/bus/subjects.ts';
import { ProverClient } from '../support/client.ts';
import { Fixture, SCHEMA } from '../support/fixture.ts';
import { createTestDb, rng } from '@merklesync/testkit';

const [keysArg, secondsArg, concArg] = process.argv.slice(2);
const KEYS = Number(keysArg ?? 50_000);
const SECONDS = Number(secondsArg ?? 10);
const CONC = Number(concArg ?? 64);
const rand = rng(99);
const T = { source: 'pg', table: 'public.bench' };

const db = await createTestDb({ prefix: 'ms_prover' });
const procs: ChildProcess[] = [];
try {
  const fx = new Fixture(db.pool);
  await fx.store.migrate();
  const keys: Uint8Array[] = [];
  for (let i = 0; i < KEYS; i += 10_000) {
    const ops = Array.from({ length: Math.min(10_000, KEYS - i) }, () => ({ key: rand(32), value: rand(32) }));
    keys.push(...ops.map((o) => o.key));
    await fx.apply([{ ...T, ops }], i + 10_000 >= KEYS);
  }
  const prefix = `bench.prover.${randomBytes(4).toString('hex')}`;
  const env = { ...process.env, PROVER_DATABASE_URL: db.url, PROVER_DB_SCHEMA: SCHEMA, PROVER_SUBJECT_PREFIX: prefix, PROVER_DB_POOL_MAX: '8' };
  const nc = await connect({ servers: '127.0.0.1:4222' });
  const client = new ProverClient(nc, prefix);
  const req = (key: Uint8Array): Uint8Array => toBinary(GenerateProofRequestSchema, create(GenerateProofRequestSchema, { target: { case: 'mapKeys', value: { ...T, mapKeys: [key] } } }));

  const start = async (): Promise<void> => {
    const p = spawn(process.execPath, ['dist/apps/prover/main.js'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    procs.push(p);
    const before = procs.length;
    // Ready when this many instances answer: poll with a deadline.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ok = await client.request(ProverRequestKind.CheckpointLatest, new Uint8Array(0), {}, 1000).then((r) => r.status === 'OK', () => false);
      if (ok && p.exitCode === null) break;
      if (Date.now() > deadline) throw new Error('prover did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    void before;
    await new Promise((r) => setTimeout(r, 500)); // let the subscription of the new instance register everywhere
  };

  const run = async (label: string, pick: () => Uint8Array): Promise<void> => {
    const lat: number[] = [];
    let errors = 0;
    const end = Date.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONC }, async () => {
        while (Date.now() < end) {
          const t0 = performance.now();
          const r = await client.request(ProverRequestKind.MapProve, pick(), {}, 5000).catch(() => undefined);
          if (r?.status !== 'OK') errors++;
          lat.push(performance.now() - t0);
        }
      }),
    );
    lat.sort((a, b) => a - b);
    const q = (p: number): string => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(2);
    console.log(`${label}: ${(lat.length / SECONDS).toFixed(0)} proofs/s, p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, errors ${errors} (concurrency ${CONC}, ${KEYS} keys)`);
  };
  const randomKey = (): Uint8Array => req(keys[Math.floor(Math.random() * keys.length)]!);

  await start();
  await run('1 instance, cold then warming cache (random stored keys)', randomKey);
  await run('1 instance, warm cache', randomKey);
  await start();
  await run('2 instances (second cold)', randomKey);
  await run('2 instances, warm', randomKey);
  await nc.close();
} finally {
  // SIGTERM: each instance drains and exits by itself.
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((r) => {
          if (p.exitCode !== null) return r();
          p.once('exit', (code, sig) => {
            console.log(`instance ${p.pid} exited: ${code ?? sig}`);
            r();
          });
          p.kill('SIGTERM');
        }),
    ),
  );
  await db.drop();
}
