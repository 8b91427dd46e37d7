// Throughput measurement, run on purpose only (no timed assertions):
//   MESSAGING_MEASURE=1 NO_COLOR=1 npx vitest run --project messaging test/throughput.spec.ts
// Publishes 50,000 messages of 1 KiB with the batch publisher, then consumes them through the runner.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import { ConsumerRunner, JetStreamPublisher, provision } from '../src/index.ts';
import { openScope, type TestScope } from './support/nats.ts';

const N = 50_000;
const SIZE = 1024;
const enabled = process.env.MESSAGING_MEASURE === '1';

describe.runIf(enabled)('throughput (50k × 1 KiB)', () => {
  let s: TestScope;
  beforeAll(async () => {
    s = await openScope();
  });
  afterAll(async () => {
    await s.cleanup();
  });

  for (const maxInFlight of [256, 1024, 4096]) {
    it(`publishBatch maxInFlight=${maxInFlight}, then ConsumerRunner`, async () => {
      const stream = `${s.streamPrefix}_TP${maxInFlight}`;
      const subject = `${s.prefix}.tp${maxInFlight}.x`;
      await provision(s.jsm, { streams: [{ name: stream, subjects: [`${s.prefix}.tp${maxInFlight}.>`] }], consumers: [{ stream, name: 'c', maxAckPending: 10_000 }] });
      const js = jetstream(s.nc);
      const publisher = new JetStreamPublisher({ jetstream: () => js });
      const payload = new Uint8Array(SIZE).fill(7);
      const msgs = Array.from({ length: N }, (_, i) => ({ subject, payload, msgId: `tp:${i}` }));
      const t0 = performance.now();
      const acks = await publisher.publishBatch(msgs, { maxInFlight });
      const pubSecs = (performance.now() - t0) / 1000;
      expect(acks).toHaveLength(N);

      const runner = new ConsumerRunner(js, { stream, consumer: 'c', batchSize: 512, handler: () => {}, logger: { log() {}, error() {}, warn() {} } });
      const t1 = performance.now();
      await runner.start();
      while (runner.stats.acked < N) await new Promise((r) => setTimeout(r, 5));
      const conSecs = (performance.now() - t1) / 1000;
      await runner.stop();
      console.log(
        `maxInFlight=${maxInFlight}: publish ${Math.round(N / pubSecs)} msg/s (${(pubSecs * 1000).toFixed(0)} ms); consume ${Math.round(N / conSecs)} msg/s (${(conSecs * 1000).toFixed(0)} ms)`,
      );
    });
  }
});
