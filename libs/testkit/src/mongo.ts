// The MongoDB-wire test server of test/infra/mongo.sh (mongo-java-server) for the MongoDB source's tests.
import { connect } from 'node:net';

export const MONGO = { url: process.env['MERKLESYNC_MONGO_URL'] ?? 'mongodb://127.0.0.1:27117/?directConnection=true' };

/** True when CI (or the developer) says the MongoDB suites must run: a missing server then fails them. */
export const mongoRequired = Boolean(process.env['CI'] || process.env['MERKLESYNC_REQUIRE_MONGO']);

/** True when something accepts connections at MONGO.url's host and port. */
export function mongoAvailable(): Promise<boolean> {
  const u = new URL(MONGO.url);
  return new Promise((resolve) => {
    const s = connect({ host: u.hostname, port: Number(u.port || 27017) });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(2000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
