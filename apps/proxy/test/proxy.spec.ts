// The proxy against the real PostgreSQL and JetStream: node-postgres (simple and extended protocol) and psql
// through it, COPY, errors, cancel, Terminate, malformed input, 20 concurrent clients, the records it publishes,
// and authentication passed through (cleartext, md5, SCRAM-SHA-256) to the real server.
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyProvider } from '@merklesync/crypto';
import { FrameReader, MessageWriter, bindMessage, parseMessage, queryMessage, readFields } from '@merklesync/pgwire';
import { type StateCommitmentRecord, decodeEvent } from '@merklesync/protocol';
import { PRE_STATE_TABLE, RecordSealer, STATEMENTS_TABLE, asPreStateDocument, asStatementsDocument } from '@merklesync/state-capture';
import { createTestDb, type TestDb, waitFor } from '@merklesync/testkit';
import { startProxy, type RunningProxy } from './support/proxy.ts';

let db: TestDb;
let proxy: RunningProxy;
let nc: NatsConnection;
let jsm: JetStreamManager;

const clientOf = (port = proxy.port, extra: Partial<pg.ClientConfig> = {}): pg.Client =>
  new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: db.name, ...extra });

async function records(): Promise<StateCommitmentRecord[]> {
  const info = await jsm.streams.info(proxy.config.stream.name);
  const out: StateCommitmentRecord[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(proxy.config.stream.name, { seq });
    if (m) out.push(decodeEvent('state-commitment', m.data));
  }
  return out;
}

/** Waits until the stream holds `n` more records than `before`, and returns the new ones. */
async function newRecords(before: number, n: number): Promise<StateCommitmentRecord[]> {
  return waitFor(
    async () => {
      const all = await records();
      return all.length >= before + n ? all.slice(before) : undefined;
    },
    20_000,
    () => `expected ${n} new records`,
  );
}

/** A raw protocol connection: startup done (trust auth), ready for hand-made messages. */
async function rawSession(): Promise<{ sock: Socket; reader: FrameReader; read: () => Promise<{ type: number; body: Buffer }[]> }> {
  const sock = connect(proxy.port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const reader = new FrameReader(1 << 24);
  const frames: { type: number; body: Buffer }[] = [];
  let ended = false;
  sock.on('data', (c: Buffer) => {
    reader.push(c);
    for (let f; (f = reader.next(false)); ) frames.push({ type: f.type, body: Buffer.from(f.body) });
  });
  sock.on('close', () => (ended = true));
  sock.on('error', () => undefined);
  const params = Buffer.from(`user\0postgres\0database\0${db.name}\0\0`);
  const startup = Buffer.alloc(8);
  startup.writeUInt32BE(8 + params.length, 0);
  startup.writeUInt32BE(196608, 4);
  sock.write(Buffer.concat([startup, params]));
  await waitFor(() => Promise.resolve(frames.some((f) => f.type === 0x5a) || undefined), 10_000, () => 'no ReadyForQuery after startup');
  frames.splice(0);
  return {
    sock,
    reader,
    // Everything until the connection closes or a ReadyForQuery arrives.
    read: async () => {
      await waitFor(() => Promise.resolve(ended || frames.some((f) => f.type === 0x5a) || undefined), 10_000, () => 'no answer');
      return frames.splice(0);
    },
  };
}

beforeAll(async () => {
  db = await createTestDb({ prefix: 'ms_proxy' });
  await db.pool.query(`CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12,2) NOT NULL)`);
  await db.pool.query(`CREATE TABLE notes (id serial PRIMARY KEY, body text, at timestamptz)`);
  await db.pool.query(`CREATE TABLE copied (id int PRIMARY KEY, v text)`);
  proxy = await startProxy();
  nc = await natsConnect({ servers: '127.0.0.1:4222' });
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  await proxy?.close();
  await jsm?.streams.delete(proxy.config.stream.name).catch(() => undefined);
  await nc?.close();
  await db?.drop();
});

describe('node-postgres through the proxy', () => {
  it('does CRUD over the simple query protocol', async () => {
    const c = clientOf();
    await c.connect();
    try {
      expect((await c.query(`INSERT INTO accounts VALUES (1, 'ada', 10.50), (2, 'bob', 20)`)).rowCount).toBe(2);
      expect((await c.query(`UPDATE accounts SET balance = balance + 1 WHERE id = 1`)).rowCount).toBe(1);
      expect((await c.query(`SELECT owner, balance FROM accounts ORDER BY id`)).rows).toEqual([
        { owner: 'ada', balance: '11.50' },
        { owner: 'bob', balance: '20.00' },
      ]);
      expect((await c.query(`DELETE FROM accounts WHERE id = 2`)).rowCount).toBe(1);
    } finally {
      await c.end();
    }
    expect((await db.pool.query('SELECT count(*)::int AS n FROM accounts')).rows[0].n).toBe(1);
  });

  it('does CRUD over the extended query protocol with parameters and named statements', async () => {
    const c = clientOf();
    await c.connect();
    try {
      await c.query({ name: 'ins', text: 'INSERT INTO accounts VALUES ($1, $2, $3)', values: [10, 'carol', '5.25'] });
      await c.query({ name: 'ins', text: 'INSERT INTO accounts VALUES ($1, $2, $3)', values: [11, 'dave', '7'] });
      await c.query('UPDATE accounts SET owner = $1 WHERE id = $2', ['caroline', 10]);
      const r = await c.query('SELECT id, owner, balance FROM accounts WHERE id = ANY($1::int[]) ORDER BY id', [[10, 11]]);
      expect(r.rows).toEqual([
        { id: 10, owner: 'caroline', balance: '5.25' },
        { id: 11, owner: 'dave', balance: '7.00' },
      ]);
      expect((await c.query('DELETE FROM accounts WHERE id = $1', [11])).rowCount).toBe(1);
      // A NULL parameter and an empty result.
      expect((await c.query('SELECT * FROM accounts WHERE owner = $1', [null])).rows).toEqual([]);
    } finally {
      await c.end();
    }
  });

  it('relays errors with their SQLSTATE and keeps the session usable, in both protocols', async () => {
    const c = clientOf();
    await c.connect();
    try {
      await expect(c.query('SELEC 1')).rejects.toMatchObject({ code: '42601' });
      await expect(c.query('INSERT INTO accounts VALUES ($1, $2, $3)', [1, 'dup', 0])).rejects.toMatchObject({ code: '23505' });
      await expect(c.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
      await c.query('BEGIN');
      await expect(c.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
      await expect(c.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
      await c.query('ROLLBACK');
      expect((await c.query('SELECT $1::int + 1 AS n', [41])).rows[0].n).toBe(42);
    } finally {
      await c.end();
    }
  });

  it('answers a failing write in an extended batch however the client splits its writes, with more messages behind it', async () => {
    // Regression: the error reached the proxy before the client's Sync, the post-state read was queued behind it,
    // the backend (skipping to the Sync) never answered it, and the session hung.
    const raw = await rawSession();
    raw.sock.write(queryMessage("INSERT INTO accounts VALUES (1, 'x', 0) ON CONFLICT DO NOTHING"));
    await raw.read();
    const sync = Buffer.from([0x53, 0, 0, 0, 4]);
    const exec = new MessageWriter().cstring('').int32(0).finish(0x45);
    const failing = [parseMessage('', 'INSERT INTO accounts VALUES ($1, $2, $3)', [0, 0, 0]), bindMessage('', '', [0, 0, 0], [Buffer.from('1'), Buffer.from('dup'), Buffer.from('0')], [0]), exec];
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    for (let k = 0; k < 40; k++) {
      const mode = k % 5;
      if (mode === 0) raw.sock.write(Buffer.concat([...failing, sync]));
      else if (mode === 1) {
        raw.sock.write(Buffer.concat(failing));
        await pause(5);
        raw.sock.write(sync);
      } else if (mode === 2) {
        for (const m of [...failing, sync]) {
          raw.sock.write(m);
          await pause(2);
        }
      } else if (mode === 3) {
        const all = Buffer.concat([...failing, sync]);
        for (let i = 0; i < all.length; i += 7) {
          raw.sock.write(all.subarray(i, i + 7));
          await new Promise((r) => setImmediate(r));
        }
      } else {
        // More statements behind the failing one, before the Sync: the backend skips them, so must the proxy.
        raw.sock.write(Buffer.concat(failing));
        await pause(5);
        raw.sock.write(Buffer.concat([parseMessage('', 'SELECT 1', []), bindMessage('', '', [], [], [0]), exec, sync]));
      }
      const got = await raw.read().catch((e: unknown) => {
        throw new Error(`round ${k} (split mode ${mode}): ${String(e)}`);
      });
      expect(got.map((f) => String.fromCharCode(f.type)).join(''), `round ${k} (split mode ${mode})`).toMatch(/^1?2?E.*Z$/);
    }
    raw.sock.write(queryMessage('SELECT 2'));
    expect((await raw.read()).map((f) => String.fromCharCode(f.type)).join('')).toBe('TDCZ');
    raw.sock.end();
  });

  it('forwards cancel requests to the backend', async () => {
    const c = clientOf();
    await c.connect();
    try {
      const running = c.query('SELECT pg_sleep(30)');
      const pid = (c as unknown as { processID: number }).processID;
      const secret = (c as unknown as { secretKey: number }).secretKey;
      await waitFor(async () => ((await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE 'SELECT pg_sleep%'`, [pid])).rowCount ? true : undefined), 10_000, () => 'query never started');
      const req = Buffer.alloc(16);
      req.writeUInt32BE(16, 0);
      req.writeUInt32BE(80877102, 4);
      req.writeInt32BE(pid, 8);
      req.writeInt32BE(secret, 12);
      const s = connect(proxy.port, '127.0.0.1', () => s.end(req));
      s.on('error', () => undefined);
      await expect(running).rejects.toMatchObject({ code: '57014' });
      expect((await c.query('SELECT 2 AS n')).rows[0].n).toBe(2);
    } finally {
      await c.end();
    }
  });

  it('closes the session on Terminate and counts it gone', async () => {
    // Sessions of earlier tests close asynchronously: start from none.
    await waitFor(() => Promise.resolve(proxy.metrics.activeConnections === 0 ? true : undefined), 10_000, () => `still ${proxy.metrics.activeConnections} sessions`);
    const before = 0;
    const c = clientOf();
    await c.connect();
    expect(proxy.metrics.activeConnections).toBe(before + 1);
    await c.end();
    await waitFor(() => Promise.resolve(proxy.metrics.activeConnections === before ? true : undefined), 10_000, () => `still ${proxy.metrics.activeConnections} sessions`);
  });

  it('serves 20 concurrent clients, each in its own transactions', async () => {
    const clients = Array.from({ length: 20 }, () => clientOf());
    await Promise.all(clients.map((c) => c.connect()));
    try {
      await Promise.all(
        clients.map(async (c, i) => {
          for (let k = 0; k < 5; k++) {
            const id = 1000 + i * 10 + k;
            await c.query('BEGIN');
            await c.query('INSERT INTO accounts VALUES ($1, $2, $3)', [id, `c${i}`, k]);
            await c.query('UPDATE accounts SET balance = balance + 100 WHERE id = $1', [id]);
            await c.query('COMMIT');
          }
        }),
      );
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
    const r = await db.pool.query(`SELECT count(*)::int AS n, sum(balance)::text AS s FROM accounts WHERE id >= 1000`);
    expect(r.rows[0]).toEqual({ n: 100, s: String(20 * (0 + 1 + 2 + 3 + 4) + 100 * 100) + '.00' });
  });
});

describe('psql through the proxy', () => {
  const psql = (args: string[], input = ''): Promise<{ code: number; out: string; err: string }> =>
    new Promise((resolve) => {
      const p = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(proxy.port), '-U', 'postgres', '-d', db.name, ...args], {
        env: { ...process.env, PGSSLMODE: 'prefer', PGCONNECT_TIMEOUT: '10' },
      });
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('close', (code) => resolve({ code: code ?? -1, out, err }));
      p.stdin.end(input);
    });

  it('runs a script with a transaction (SSLRequest answered N, sslmode=prefer falls back)', async () => {
    const r = await psql(['-A', '-t', '-c', "BEGIN; INSERT INTO accounts VALUES (50, 'psql', 1); UPDATE accounts SET balance = 2 WHERE id = 50; COMMIT; SELECT owner || ':' || balance FROM accounts WHERE id = 50"]);
    expect(r.err).toBe('');
    expect(r.out.trim()).toBe('psql:2.00');
  });

  it('passes COPY FROM STDIN and COPY TO STDOUT through', async () => {
    const load = await psql(['-c', 'COPY copied FROM STDIN'], '1\tone\n2\ttwo\n3\t\\N\n\\.\n');
    expect(load).toMatchObject({ code: 0, err: '' });
    const dump = await psql(['-c', 'COPY (SELECT * FROM copied ORDER BY id) TO STDOUT']);
    expect(dump.out).toBe('1\tone\n2\ttwo\n3\t\\N\n');
    const bad = await psql(['-c', 'COPY copied FROM STDIN'], 'x\ty\n\\.\n');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/invalid input syntax for type integer/);
  });
});

describe('records', () => {
  it('publishes one record per committed writing transaction, none for rollbacks or reads, with warnings', async () => {
    const before = (await records()).length;
    const c = clientOf();
    await c.connect();
    try {
      await c.query('SELECT * FROM accounts');
      await c.query('BEGIN');
      await c.query(`INSERT INTO accounts VALUES (60, 'gone', 1)`);
      await c.query('ROLLBACK');
      await c.query('BEGIN');
      await c.query(`INSERT INTO accounts VALUES (61, 'kept', 1)`);
      await c.query('SAVEPOINT s1');
      await c.query(`UPDATE accounts SET balance = 99 WHERE id = 61`);
      await c.query('ROLLBACK TO SAVEPOINT s1');
      await c.query(`INSERT INTO notes (body, at) VALUES ($1, now())`, ['hello']);
      await c.query('COMMIT');
      await c.query(`UPDATE accounts SET balance = random() * 10 WHERE id = 61`);
    } finally {
      await c.end();
    }
    const got = await newRecords(before, 2);
    expect(got).toHaveLength(2);
    const [tx, rnd] = got as [StateCommitmentRecord, StateCommitmentRecord];
    expect(tx.warnings).toContain('statement 5: non-deterministic function now()');
    expect(rnd.warnings).toContain('statement 1: non-deterministic function random()');
    expect(Buffer.from(tx.preRoot).equals(Buffer.from(tx.postRootClaimed))).toBe(false);

    // The encrypted parts open with the proxy's keys and say what happened.
    const sealer = new RecordSealer(new LocalKeyProvider([proxy.keyring]), proxy.config.source, 'test');
    const pre = asPreStateDocument(await sealer.open(PRE_STATE_TABLE, tx.transactionId, tx.querySequence, tx.preState));
    const stmts = asStatementsDocument(await sealer.open(STATEMENTS_TABLE, tx.transactionId, tx.querySequence, tx.statements));
    expect(stmts.statements.map((s) => s.sql)).toEqual([
      `INSERT INTO accounts VALUES (61, 'kept', 1)`,
      'SAVEPOINT s1',
      'UPDATE accounts SET balance = 99 WHERE id = 61',
      'ROLLBACK TO SAVEPOINT s1',
      'INSERT INTO notes (body, at) VALUES ($1, now())',
    ]);
    expect(stmts.statements[4]!.params).toEqual([{ v: 'hello', f: 0, t: 0 }]);
    const accounts = pre.tables.find((t) => t.meta.name === 'public.accounts')!;
    expect(accounts.keys).toEqual([['61']]);
    expect(accounts.rows).toEqual([]);
    expect(accounts.postLeaves).toHaveLength(1);
    expect(accounts.postLeaves[0]![1]).not.toBeNull();
    const notes = pre.tables.find((t) => t.meta.name === 'public.notes')!;
    expect(notes.seqFloor?.column).toBe('id');
    expect(notes.postLeaves).toHaveLength(1);
  });
});

describe('malformed protocol input', () => {
  const cases: [string, Buffer][] = [
    ['a length below 4', Buffer.from([0x51, 0, 0, 0, 2])],
    ['an unknown message type', Buffer.from([0x7a, 0, 0, 0, 4])],
    ['a Query without its terminator', Buffer.concat([Buffer.from([0x51, 0, 0, 0, 12]), Buffer.from('SELECT 1')])],
    ['a Bind whose parameter length overruns', new MessageWriter().cstring('').cstring('').int16(0).int16(1).int32(1000).finish(0x42)],
    ['a length above the limit', Buffer.from([0x51, 0x7f, 0xff, 0xff, 0xf0])],
    ['a Describe of neither S nor P', new MessageWriter().byte(0x58).cstring('').finish(0x44)],
  ];
  for (const [what, bytes] of cases) {
    it(`answers ${what} with ErrorResponse 08P01, closes, and keeps serving others`, async () => {
      const bystander = clientOf();
      await bystander.connect();
      const raw = await rawSession();
      raw.sock.write(bytes);
      const got = await raw.read();
      const err = got.find((f) => f.type === 0x45);
      expect(err, `no ErrorResponse for ${what}`).toBeDefined();
      expect(readFields(err!.body).get('C')).toBe('08P01');
      await waitFor(() => Promise.resolve(raw.sock.destroyed || raw.sock.readableEnded ? true : undefined), 10_000, () => 'connection not closed');
      expect((await bystander.query('SELECT 7 AS n')).rows[0].n).toBe(7);
      await bystander.end();
    });
  }

  it('refuses an unsupported protocol version and garbage before startup', async () => {
    for (const packet of [Buffer.from([0, 0, 0, 8, 0, 2, 0, 0]), Buffer.from([0, 0, 0, 3, 1, 2, 3, 4]), Buffer.from([0, 0, 0, 12, 0, 3, 0, 0, 0x75, 0x73, 0x65, 0x72])]) {
      const sock = connect(proxy.port, '127.0.0.1');
      const chunks: Buffer[] = [];
      sock.on('data', (c: Buffer) => chunks.push(c));
      sock.on('error', () => undefined);
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.write(packet);
      await new Promise<void>((r) => sock.once('close', () => r()));
      const all = Buffer.concat(chunks);
      expect(all[0]).toBe(0x45);
      expect(readFields(all.subarray(5)).get('C')).toBe('08P01');
    }
    const c = clientOf();
    await c.connect();
    expect((await c.query('SELECT 1 AS n')).rows[0].n).toBe(1);
    await c.end();
  });

  it('hand-made extended messages round-trip through a raw session', async () => {
    const raw = await rawSession();
    raw.sock.write(Buffer.concat([parseMessage('', 'SELECT $1::int + 1', [0]), bindMessage('', '', [0], [Buffer.from('41')], [0]), new MessageWriter().cstring('').int32(0).finish(0x45), Buffer.from([0x53, 0, 0, 0, 4])]));
    const got = await raw.read();
    expect(got.map((f) => String.fromCharCode(f.type)).join('')).toBe('12DCZ');
    raw.sock.end(queryMessage('SELECT 1'));
  });
});

describe('authentication is passed through to the real server', () => {
  // test/infra/services.sh gives these three roles password authentication in pg_hba.conf (every other role keeps
  // trust): the proxy relays the server's own cleartext, md5 and SCRAM-SHA-256 exchanges.
  const roles = [
    { method: 'cleartext', role: 'ms_auth_password', storage: 'scram-sha-256' },
    { method: 'md5', role: 'ms_auth_md5', storage: 'md5' },
    { method: 'scram-sha-256', role: 'ms_auth_scram', storage: 'scram-sha-256' },
  ] as const;
  const password = `pw-${Date.now().toString(36)}`;

  beforeAll(async () => {
    const admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
    await admin.connect();
    try {
      for (const r of roles) {
        // md5 authentication needs an md5-stored password; the others accept SCRAM verifiers.
        await admin.query(`SET password_encryption = '${r.storage}'`);
        const exists = (await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [r.role])).rowCount === 1;
        await admin.query(`${exists ? 'ALTER' : 'CREATE'} ROLE ${r.role} LOGIN PASSWORD '${password}'`);
      }
    } finally {
      await admin.end();
    }
  });

  for (const r of roles) {
    it(`${r.method}: the right password gets in, a wrong one gets the server's 28P01`, async () => {
      // The server really asks this role for a password (else the test would pass through trust, proving nothing).
      const direct = new pg.Client({ host: '127.0.0.1', port: 5432, user: r.role, password: 'wrong', database: 'postgres' });
      await expect(direct.connect(), `pg_hba.conf must require a password for ${r.role}: run test/infra/services.sh`).rejects.toMatchObject({ code: '28P01' });
      const p = await startProxy({ PROXY_CAPTURE: 'off' });
      try {
        const good = new pg.Client({ host: '127.0.0.1', port: p.port, user: r.role, password, database: 'postgres' });
        await good.connect();
        expect((await good.query('SELECT current_user AS u')).rows).toEqual([{ u: r.role }]);
        await good.end();
        const bad = new pg.Client({ host: '127.0.0.1', port: p.port, user: r.role, password: 'wrong', database: 'postgres' });
        await expect(bad.connect()).rejects.toMatchObject({ code: '28P01' });
      } finally {
        await p.close();
      }
    });
  }
});

