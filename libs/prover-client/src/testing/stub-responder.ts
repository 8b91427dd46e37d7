// A tiny stand-in for the prover in tests: answers `<prefix>.<kind>` with whatever the test's handler returns,
// with the prover's reply headers. Not a prover: no store, no proofs of its own.
import { headers as natsHeaders, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { ReplyHeaders, proverSubject, type ProverRequestKind } from '../subjects.ts';

/** What a stub handler answers: a status (default OK), a payload, an error message. */
export interface StubReply {
  readonly status?: string;
  readonly data?: Uint8Array;
  readonly message?: string;
}

/** A stub handler; `headers` are the request's (e.g. to check `traceparent`). Return undefined to stay silent. */
export type StubHandler = (data: Uint8Array, headers: MsgHdrs | undefined) => StubReply | undefined | Promise<StubReply | undefined>;

/** A running stub; `close()` unsubscribes. */
export interface ProverStub {
  /** Requests received per kind. */
  readonly received: Map<ProverRequestKind, number>;
  close(): Promise<void>;
}

/**
 * Subscribes one handler per kind under `prefix` and flushes, so requests sent after it resolves reach it.
 * @example const stub = await startProverStub(nc, 'test.x', { 'checkpoint.latest': () => ({ status: 'NOT_FOUND', message: 'none' }) })
 */
export async function startProverStub(nc: NatsConnection, prefix: string, handlers: Partial<Record<ProverRequestKind, StubHandler>>): Promise<ProverStub> {
  const received = new Map<ProverRequestKind, number>();
  const subs: Subscription[] = [];
  for (const [kind, handler] of Object.entries(handlers) as [ProverRequestKind, StubHandler][]) {
    subs.push(
      nc.subscribe(proverSubject(prefix, kind), {
        callback: (err, msg) => {
          if (err !== null) return;
          received.set(kind, (received.get(kind) ?? 0) + 1);
          void Promise.resolve(handler(msg.data, msg.headers)).then((r) => {
            if (r === undefined) return;
            const h = natsHeaders();
            h.set(ReplyHeaders.Status, r.status ?? 'OK');
            if (r.message !== undefined) h.set(ReplyHeaders.ErrorMessage, r.message);
            msg.respond(r.data ?? new Uint8Array(0), { headers: h });
          });
        },
      }),
    );
  }
  await nc.flush();
  return {
    received,
    async close() {
      for (const s of subs) s.unsubscribe();
      await nc.flush();
    },
  };
}
