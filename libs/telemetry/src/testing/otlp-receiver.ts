// Test support (exported as @merklesync/telemetry/testing): an OTLP/HTTP traces receiver in the test process.
// It decodes the protobuf ExportTraceServiceRequest (opentelemetry-proto, collector/trace/v1) far enough to
// check trace structure: ids, parent links, names, kinds, string/int/bool attributes and the resource.
// Field numbers from opentelemetry/proto/trace/v1/trace.proto and common/v1/common.proto.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

/** One span as received. Ids are lowercase hex; `parentSpanId` is undefined for a root span. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly scope: string;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  /** The span's links (OTLP Span field 13): the other traces it belongs to. */
  readonly links: readonly { readonly traceId: string; readonly spanId: string }[];
  /** The resource's `service.name`. */
  readonly service: string;
  readonly resource: Readonly<Record<string, string | number | boolean>>;
}

/** OTLP SpanKind values. */
export const OtlpSpanKind = { Internal: 1, Server: 2, Client: 3, Producer: 4, Consumer: 5 } as const;

export interface OtlpReceiver {
  /** Base URL (for OTEL_EXPORTER_OTLP_ENDPOINT); traces are posted to `${url}/v1/traces`. */
  readonly url: string;
  /** Every span received so far, in arrival order. */
  readonly spans: readonly ReceivedSpan[];
  /** Export requests received (answered or not). */
  readonly requests: number;
  /**
   * Resolves once `predicate(spans)` holds; rejects after `timeoutMs` with the spans seen so far.
   * @throws Error on the deadline.
   */
  waitFor(predicate: (spans: readonly ReceivedSpan[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const _hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

type Attr = string | number | boolean;

function _anyValue(bytes: Uint8Array): Attr | undefined {
  const r = new BinaryReader(bytes);
  let v: Attr | undefined;
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1) v = r.string();
    else if (no === 2) v = r.bool();
    else if (no === 3) v = Number(r.int64());
    else if (no === 4) v = r.double();
    else r.skip(wt);
  }
  return v;
}

function _keyValue(bytes: Uint8Array, into: Record<string, Attr>): void {
  const r = new BinaryReader(bytes);
  let key = '';
  let value: Attr | undefined;
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1) key = r.string();
    else if (no === 2) value = _anyValue(r.bytes());
    else r.skip(wt);
  }
  if (value !== undefined) into[key] = value;
}

function _resource(bytes: Uint8Array): Record<string, Attr> {
  const r = new BinaryReader(bytes);
  const out: Record<string, Attr> = {};
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1) _keyValue(r.bytes(), out);
    else r.skip(wt);
  }
  return out;
}

function _span(bytes: Uint8Array, scope: string, resource: Record<string, Attr>): ReceivedSpan {
  const r = new BinaryReader(bytes);
  let traceId = '';
  let spanId = '';
  let parentSpanId: string | undefined;
  let name = '';
  let kind = 0;
  const attributes: Record<string, Attr> = {};
  const links: { traceId: string; spanId: string }[] = [];
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 13) links.push(_link(r.bytes()));
    else if (no === 1) traceId = _hex(r.bytes());
    else if (no === 2) spanId = _hex(r.bytes());
    else if (no === 4) {
      const p = r.bytes();
      parentSpanId = p.length === 0 ? undefined : _hex(p);
    } else if (no === 5) name = r.string();
    else if (no === 6) kind = r.int32();
    else if (no === 9) _keyValue(r.bytes(), attributes);
    else r.skip(wt);
  }
  return { traceId, spanId, parentSpanId, name, kind, scope, attributes, links, service: String(resource['service.name'] ?? ''), resource };
}

function _link(bytes: Uint8Array): { traceId: string; spanId: string } {
  const r = new BinaryReader(bytes);
  let traceId = '';
  let spanId = '';
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1) traceId = _hex(r.bytes());
    else if (no === 2) spanId = _hex(r.bytes());
    else r.skip(wt);
  }
  return { traceId, spanId };
}

function _scopeSpans(bytes: Uint8Array, resource: Record<string, Attr>, out: ReceivedSpan[]): void {
  const r = new BinaryReader(bytes);
  let scope = '';
  const spans: Uint8Array[] = [];
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1) {
      const s = new BinaryReader(r.bytes());
      while (s.pos < s.len) {
        const [sno, swt] = s.tag();
        if (sno === 1) scope = s.string();
        else s.skip(swt);
      }
    } else if (no === 2) spans.push(r.bytes());
    else r.skip(wt);
  }
  for (const s of spans) out.push(_span(s, scope, resource));
}

/**
 * Decodes an OTLP ExportTraceServiceRequest (protobuf).
 * @throws Error for bytes that are not a valid protobuf message.
 * @example decodeExportTraceRequest(body).map((s) => s.name)
 */
export function decodeExportTraceRequest(bytes: Uint8Array): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no !== 1 || wt !== WireType.LengthDelimited) {
      r.skip(wt);
      continue;
    }
    const rs = new BinaryReader(r.bytes());
    let resource: Record<string, Attr> = {};
    const scopes: Uint8Array[] = [];
    while (rs.pos < rs.len) {
      const [rno, rwt] = rs.tag();
      if (rno === 1) resource = _resource(rs.bytes());
      else if (rno === 2) scopes.push(rs.bytes());
      else rs.skip(rwt);
    }
    for (const s of scopes) _scopeSpans(s, resource, out);
  }
  return out;
}

async function _body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

/**
 * Starts a receiver on 127.0.0.1 (a free port). `respond: 'never'` accepts requests and never answers (a
 * collector that hangs), to test that exporting cannot block the service.
 * @example const rx = await startOtlpReceiver(); env.OTEL_EXPORTER_OTLP_ENDPOINT = rx.url; … await rx.waitFor((s) => s.length > 0, 'a span')
 */
export async function startOtlpReceiver(options: { respond?: 'ok' | 'never' } = {}): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const waiters = new Set<() => void>();
  const hanging = new Set<ServerResponse>();
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    if (options.respond === 'never') {
      hanging.add(res);
      req.resume();
      return;
    }
    _body(req).then(
      (body) => {
        if (req.method !== 'POST' || req.url !== '/v1/traces' || req.headers['content-type'] !== 'application/x-protobuf') {
          res.writeHead(404).end();
          return;
        }
        spans.push(...decodeExportTraceRequest(body));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        for (const w of waiters) w();
      },
      () => res.writeHead(400).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    get requests() {
      return requests;
    },
    waitFor(predicate, what, timeoutMs = 15_000) {
      if (predicate(spans)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (!predicate(spans)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`OTLP receiver: no ${what} within ${timeoutMs} ms; got ${JSON.stringify(spans.map((s) => `${s.service}:${s.name}`))}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
