// Calls the gateway specs make on the REST and gRPC surfaces, with the outcome as a value to assert on.
import { ConnectError, type Code } from '@connectrpc/connect';

/** GET `url`: the status and the JSON body. */
export async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

/** 'ok' when the call succeeds, else the Connect code it failed with. */
export async function grpcCode(p: Promise<unknown>): Promise<Code | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return ConnectError.from(e).code;
  }
}
