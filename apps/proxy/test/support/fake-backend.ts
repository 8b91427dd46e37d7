// A minimal PostgreSQL-speaking server for the authentication tests: it asks for cleartext, md5 or SCRAM-SHA-256
// (RFC 5802/7677, as PostgreSQL does it), checks the client's answer, and then answers every Query with
// CommandComplete "SELECT 0" + ReadyForQuery. Through the proxy, this proves the exchange is passed through
// unchanged, for each method.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { type AddressInfo, type Server, createServer } from 'node:net';
import { FrameReader, MessageWriter, errorResponse, readStartup } from '@merklesync/pgwire';

export type AuthMethod = 'cleartext' | 'md5' | 'scram';

const R = 0x52;
const ok = (): Buffer =>
  Buffer.concat([
    new MessageWriter().int32(0).finish(R),
    new MessageWriter().cstring('server_version').cstring('15.0').finish(0x53),
    new MessageWriter().int32(4242).int32(777).finish(0x4b),
    new MessageWriter().byte(0x49).finish(0x5a),
  ]);

export async function startFakeBackend(method: AuthMethod, user: string, password: string): Promise<{ port: number; authenticated: () => number; close: () => Promise<void> }> {
  let authenticated = 0;
  const server: Server = createServer((sock) => {
    const reader = new FrameReader(1 << 20);
    let phase: 'startup' | 'auth' | 'scram-final' | 'ready' = 'startup';
    let salt = randomBytes(4);
    let scram: { clientFirstBare: string; serverFirst: string; nonce: string; salted: Buffer } | undefined;
    const fail = (): void => void sock.end(errorResponse('28P01', `password authentication failed for user "${user}"`, 'FATAL'));
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      for (let f; (f = reader.next(phase === 'startup')); ) {
        if (phase === 'startup') {
          if (f.body.readUInt32BE(0) === 80877103) {
            sock.write('N');
            continue;
          }
          if (readStartup(f.body).params.get('user') !== user) return fail();
          phase = 'auth';
          if (method === 'cleartext') sock.write(new MessageWriter().int32(3).finish(R));
          else if (method === 'md5') {
            salt = randomBytes(4);
            sock.write(new MessageWriter().int32(5).bytes(salt).finish(R));
          } else sock.write(new MessageWriter().int32(10).cstring('SCRAM-SHA-256').byte(0).finish(R));
        } else if (phase === 'auth' && f.type === 0x70) {
          if (method === 'cleartext') {
            if (f.body.toString('utf8', 0, f.body.length - 1) !== password) return fail();
          } else if (method === 'md5') {
            const inner = createHash('md5').update(password + user).digest('hex');
            const want = 'md5' + createHash('md5').update(Buffer.concat([Buffer.from(inner), salt])).digest('hex');
            if (f.body.toString('utf8', 0, f.body.length - 1) !== want) return fail();
          } else {
            // SASLInitialResponse: mechanism, int32 length, client-first-message.
            const mechEnd = f.body.indexOf(0);
            const first = f.body.subarray(mechEnd + 5).toString('utf8');
            const clientFirstBare = first.slice(first.indexOf(',', first.indexOf(',') + 1) + 1);
            const cnonce = /r=([^,]+)/.exec(clientFirstBare)![1]!;
            const s = randomBytes(16);
            const nonce = cnonce + randomBytes(18).toString('base64');
            const serverFirst = `r=${nonce},s=${s.toString('base64')},i=4096`;
            scram = { clientFirstBare, serverFirst, nonce, salted: pbkdf2Sync(password, s, 4096, 32, 'sha256') };
            sock.write(new MessageWriter().int32(11).bytes(Buffer.from(serverFirst)).finish(R));
            phase = 'scram-final';
            continue;
          }
          authenticated++;
          phase = 'ready';
          sock.write(ok());
        } else if (phase === 'scram-final' && f.type === 0x70 && scram) {
          const final = f.body.toString('utf8');
          const withoutProof = final.slice(0, final.lastIndexOf(',p='));
          const proof = Buffer.from(final.slice(final.lastIndexOf(',p=') + 3), 'base64');
          const authMessage = `${scram.clientFirstBare},${scram.serverFirst},${withoutProof}`;
          const clientKey = createHmac('sha256', scram.salted).update('Client Key').digest();
          const storedKey = createHash('sha256').update(clientKey).digest();
          const sig = createHmac('sha256', storedKey).update(authMessage).digest();
          const recovered = Buffer.from(proof.map((b, i) => b ^ sig[i]!));
          if (!withoutProof.includes(`r=${scram.nonce}`) || !createHash('sha256').update(recovered).digest().equals(storedKey)) return fail();
          const serverKey = createHmac('sha256', scram.salted).update('Server Key').digest();
          const serverSig = createHmac('sha256', serverKey).update(authMessage).digest('base64');
          authenticated++;
          phase = 'ready';
          sock.write(Buffer.concat([new MessageWriter().int32(12).bytes(Buffer.from(`v=${serverSig}`)).finish(R), ok()]));
        } else if (phase === 'ready' && f.type === 0x51) {
          sock.write(Buffer.concat([new MessageWriter().cstring('SELECT 0').finish(0x43), new MessageWriter().byte(0x49).finish(0x5a)]));
        } else if (f.type === 0x58) {
          sock.end();
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    authenticated: () => authenticated,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
