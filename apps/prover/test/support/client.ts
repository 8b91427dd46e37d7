// A minimal prover client for tests and measurements: request/reply with the status headers decoded.
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { proverSubject, ReplyHeaders, type ProverRequestKind } from '../../src/bus/subjects.ts';

export interface Reply {
  readonly status: string;
  readonly message: string | undefined;
  readonly data: Uint8Array;
}

export class ProverClient {
  private readonly nc: NatsConnection;
  private readonly prefix: string;
  constructor(nc: NatsConnection, prefix: string) {
    this.nc = nc;
    this.prefix = prefix;
  }

  async request(kind: ProverRequestKind, data: Uint8Array, hdrs: Record<string, string> = {}, timeoutMs = 5000): Promise<Reply> {
    let h: MsgHdrs | undefined;
    if (Object.keys(hdrs).length > 0) {
      h = natsHeaders();
      for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
    }
    const m = await this.nc.request(proverSubject(this.prefix, kind), data, { timeout: timeoutMs, ...(h === undefined ? {} : { headers: h }) });
    return { status: m.headers?.get(ReplyHeaders.Status) ?? '', message: m.headers?.get(ReplyHeaders.ErrorMessage) || undefined, data: m.data };
  }
}
