// Readers and writers of the protocol messages a proxy needs to look into or produce. Readers check every
// length and terminator against the message body and throw PgWireError(MALFORMED) instead of reading past it.
import { PgWireError, PgWireErrorCode } from './errors.ts';

/** Frontend message types (client → server). */
export const FrontendType = {
  Bind: 0x42, // B
  Close: 0x43, // C
  CopyData: 0x64, // d
  CopyDone: 0x63, // c
  CopyFail: 0x66, // f
  Describe: 0x44, // D
  Execute: 0x45, // E
  Flush: 0x48, // H
  FunctionCall: 0x46, // F
  Parse: 0x50, // P
  Password: 0x70, // p (also SASLInitialResponse / SASLResponse / GSSResponse)
  Query: 0x51, // Q
  Sync: 0x53, // S
  Terminate: 0x58, // X
} as const;

/** Backend message types (server → client). */
export const BackendType = {
  Authentication: 0x52, // R
  BackendKeyData: 0x4b, // K
  BindComplete: 0x32, // 2
  CloseComplete: 0x33, // 3
  CommandComplete: 0x43, // C
  CopyData: 0x64, // d
  CopyDone: 0x63, // c
  CopyInResponse: 0x47, // G
  CopyOutResponse: 0x48, // H
  CopyBothResponse: 0x57, // W
  DataRow: 0x44, // D
  EmptyQueryResponse: 0x49, // I
  ErrorResponse: 0x45, // E
  FunctionCallResponse: 0x56, // V
  NegotiateProtocolVersion: 0x76, // v
  NoData: 0x6e, // n
  NoticeResponse: 0x4e, // N
  NotificationResponse: 0x41, // A
  ParameterDescription: 0x74, // t
  ParameterStatus: 0x53, // S
  ParseComplete: 0x31, // 1
  PortalSuspended: 0x73, // s
  ReadyForQuery: 0x5a, // Z
  RowDescription: 0x54, // T
} as const;

const _FRONTEND = new Set<number>(Object.values(FrontendType));
/** Whether `type` is a message a client may send after startup. */
export function isFrontendType(type: number): boolean {
  return _FRONTEND.has(type);
}

/** Sequential reader over one message body. */
export class BodyReader {
  readonly #b: Buffer;
  #at = 0;
  readonly #what: string;

  constructor(body: Buffer, what: string) {
    this.#b = body;
    this.#what = what;
  }

  #bad(why: string): never {
    throw new PgWireError(PgWireErrorCode.Malformed, `${this.#what}: ${why}`);
  }

  get remaining(): number {
    return this.#b.length - this.#at;
  }

  byte(): number {
    if (this.remaining < 1) this.#bad('truncated');
    return this.#b[this.#at++]!;
  }

  int16(): number {
    if (this.remaining < 2) this.#bad('truncated');
    const v = this.#b.readInt16BE(this.#at);
    this.#at += 2;
    return v;
  }

  int32(): number {
    if (this.remaining < 4) this.#bad('truncated');
    const v = this.#b.readInt32BE(this.#at);
    this.#at += 4;
    return v;
  }

  /** A NUL-terminated UTF-8 string. */
  cstring(): string {
    const end = this.#b.indexOf(0, this.#at);
    if (end < 0) this.#bad('string without terminator');
    const s = this.#b.toString('utf8', this.#at, end);
    this.#at = end + 1;
    return s;
  }

  bytes(n: number): Buffer {
    if (n < 0 || this.remaining < n) this.#bad(`length ${n} overruns the message`);
    const v = this.#b.subarray(this.#at, this.#at + n);
    this.#at += n;
    return v;
  }

  end(): void {
    if (this.remaining !== 0) this.#bad(`${this.remaining} trailing bytes`);
  }
}

/** Startup message parameters (user, database, options, …). */
export function readStartup(body: Buffer): { version: number; params: Map<string, string> } {
  const r = new BodyReader(body, 'StartupMessage');
  const version = r.int32();
  const params = new Map<string, string>();
  if (version !== 196608) return { version, params };
  for (;;) {
    if (r.remaining === 0) throw new PgWireError(PgWireErrorCode.Malformed, 'StartupMessage: missing final terminator');
    const k = r.cstring();
    if (k === '') break;
    params.set(k, r.cstring());
  }
  r.end();
  if (!params.has('user')) throw new PgWireError(PgWireErrorCode.Malformed, 'StartupMessage: no user parameter');
  return { version, params };
}

export function readQuery(body: Buffer): string {
  const r = new BodyReader(body, 'Query');
  const sql = r.cstring();
  r.end();
  return sql;
}

export interface ParseMessage {
  readonly name: string;
  readonly sql: string;
  readonly paramTypes: number[];
}

export function readParse(body: Buffer): ParseMessage {
  const r = new BodyReader(body, 'Parse');
  const name = r.cstring();
  const sql = r.cstring();
  const n = r.int16();
  if (n < 0) throw new PgWireError(PgWireErrorCode.Malformed, 'Parse: negative parameter count');
  const paramTypes: number[] = [];
  for (let i = 0; i < n; i++) paramTypes.push(r.int32() >>> 0);
  r.end();
  return { name, sql, paramTypes };
}

export interface BindMessage {
  readonly portal: string;
  readonly statement: string;
  /** 0, 1 or n format codes as sent. */
  readonly paramFormats: number[];
  readonly params: (Buffer | null)[];
  readonly resultFormats: number[];
}

export function readBind(body: Buffer): BindMessage {
  const r = new BodyReader(body, 'Bind');
  const portal = r.cstring();
  const statement = r.cstring();
  const nf = r.int16();
  if (nf < 0) throw new PgWireError(PgWireErrorCode.Malformed, 'Bind: negative format count');
  const paramFormats: number[] = [];
  for (let i = 0; i < nf; i++) paramFormats.push(r.int16());
  const np = r.int16();
  if (np < 0) throw new PgWireError(PgWireErrorCode.Malformed, 'Bind: negative parameter count');
  if (nf > 1 && nf !== np) throw new PgWireError(PgWireErrorCode.Malformed, `Bind: ${nf} format codes for ${np} parameters`);
  const params: (Buffer | null)[] = [];
  for (let i = 0; i < np; i++) {
    const len = r.int32();
    if (len < -1) throw new PgWireError(PgWireErrorCode.Malformed, 'Bind: parameter length below -1');
    params.push(len === -1 ? null : r.bytes(len));
  }
  const nr = r.int16();
  if (nr < 0) throw new PgWireError(PgWireErrorCode.Malformed, 'Bind: negative result format count');
  const resultFormats: number[] = [];
  for (let i = 0; i < nr; i++) resultFormats.push(r.int16());
  r.end();
  return { portal, statement, paramFormats, params, resultFormats };
}

/** Format code of parameter `i` under Bind's 0/1/n format-code rule. */
export function paramFormat(formats: readonly number[], i: number): number {
  return formats.length === 0 ? 0 : formats.length === 1 ? formats[0]! : (formats[i] ?? 0);
}

export function readExecute(body: Buffer): { portal: string; maxRows: number } {
  const r = new BodyReader(body, 'Execute');
  const portal = r.cstring();
  const maxRows = r.int32();
  r.end();
  return { portal, maxRows };
}

/** Describe and Close: 'S' statement or 'P' portal, and its name. */
export function readTarget(body: Buffer, what: 'Describe' | 'Close'): { kind: 'S' | 'P'; name: string } {
  const r = new BodyReader(body, what);
  const k = r.byte();
  if (k !== 0x53 && k !== 0x50) throw new PgWireError(PgWireErrorCode.Malformed, `${what}: kind must be 'S' or 'P'`);
  const name = r.cstring();
  r.end();
  return { kind: k === 0x53 ? 'S' : 'P', name };
}

/** ErrorResponse / NoticeResponse fields by code letter (S, V, C, M, D, …). */
export function readFields(body: Buffer): Map<string, string> {
  const r = new BodyReader(body, 'ErrorResponse');
  const out = new Map<string, string>();
  for (;;) {
    const code = r.byte();
    if (code === 0) break;
    out.set(String.fromCharCode(code), r.cstring());
  }
  return out;
}

export function readCommandTag(body: Buffer): string {
  return new BodyReader(body, 'CommandComplete').cstring();
}

/** DataRow columns as text (null for SQL NULL); the proxy asks for text format only. */
export function readDataRowText(body: Buffer): (string | null)[] {
  const r = new BodyReader(body, 'DataRow');
  const n = r.int16();
  const out: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    const len = r.int32();
    out.push(len === -1 ? null : r.bytes(len).toString('utf8'));
  }
  return out;
}

/** RowDescription: column names and type OIDs. */
export function readRowDescription(body: Buffer): { name: string; typeOid: number }[] {
  const r = new BodyReader(body, 'RowDescription');
  const n = r.int16();
  const out: { name: string; typeOid: number }[] = [];
  for (let i = 0; i < n; i++) {
    const name = r.cstring();
    r.int32(); // table oid
    r.int16(); // column number
    const typeOid = r.int32() >>> 0;
    r.int16(); // type size
    r.int32(); // type modifier
    r.int16(); // format
    out.push({ name, typeOid });
  }
  return out;
}

export function readParameterDescription(body: Buffer): number[] {
  const r = new BodyReader(body, 'ParameterDescription');
  const n = r.int16();
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.int32() >>> 0);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Writers.

/** Builds one typed message from body parts (strings are written NUL-terminated). */
export class MessageWriter {
  readonly #parts: Buffer[] = [];
  #len = 0;

  cstring(s: string): this {
    return this.#add(Buffer.from(`${s}\u0000`, 'utf8'));
  }

  int16(v: number): this {
    const b = Buffer.allocUnsafe(2);
    b.writeInt16BE(v);
    return this.#add(b);
  }

  int32(v: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(v | 0);
    return this.#add(b);
  }

  byte(v: number): this {
    return this.#add(Buffer.of(v));
  }

  bytes(b: Buffer): this {
    return this.#add(b);
  }

  #add(b: Buffer): this {
    this.#parts.push(b);
    this.#len += b.length;
    return this;
  }

  finish(type: number): Buffer {
    const head = Buffer.allocUnsafe(5);
    head[0] = type;
    head.writeUInt32BE(this.#len + 4, 1);
    return Buffer.concat([head, ...this.#parts], this.#len + 5);
  }
}

/** ErrorResponse (or NoticeResponse with type 'N') with severity, SQLSTATE and message. */
export function errorResponse(sqlstate: string, message: string, severity = 'ERROR', type: number = BackendType.ErrorResponse): Buffer {
  return new MessageWriter().byte(0x53).cstring(severity).byte(0x56).cstring(severity).byte(0x43).cstring(sqlstate).byte(0x4d).cstring(message).byte(0).finish(type);
}

export function queryMessage(sql: string): Buffer {
  return new MessageWriter().cstring(sql).finish(FrontendType.Query);
}

export function parseMessage(name: string, sql: string, paramTypes: readonly number[]): Buffer {
  const w = new MessageWriter().cstring(name).cstring(sql).int16(paramTypes.length);
  for (const t of paramTypes) w.int32(t);
  return w.finish(FrontendType.Parse);
}

export function bindMessage(portal: string, statement: string, paramFormats: readonly number[], params: readonly (Buffer | null)[], resultFormats: readonly number[]): Buffer {
  const w = new MessageWriter().cstring(portal).cstring(statement).int16(paramFormats.length);
  for (const f of paramFormats) w.int16(f);
  w.int16(params.length);
  for (const p of params) {
    if (p === null) w.int32(-1);
    else w.int32(p.length).bytes(p);
  }
  w.int16(resultFormats.length);
  for (const f of resultFormats) w.int16(f);
  return w.finish(FrontendType.Bind);
}

export function describeMessage(kind: 'S' | 'P', name: string): Buffer {
  return new MessageWriter().byte(kind.charCodeAt(0)).cstring(name).finish(FrontendType.Describe);
}

export function executeMessage(portal: string, maxRows = 0): Buffer {
  return new MessageWriter().cstring(portal).int32(maxRows).finish(FrontendType.Execute);
}

export function closeMessage(kind: 'S' | 'P', name: string): Buffer {
  return new MessageWriter().byte(kind.charCodeAt(0)).cstring(name).finish(FrontendType.Close);
}

export const SYNC_MESSAGE: Buffer = Buffer.from([FrontendType.Sync, 0, 0, 0, 4]);
export const FLUSH_MESSAGE: Buffer = Buffer.from([FrontendType.Flush, 0, 0, 0, 4]);
/** The single byte answering SSLRequest / GSSENCRequest: not supported, continue in plain text. */
export const NO_ENCRYPTION: Buffer = Buffer.from('N');

/** A CancelRequest packet (untyped: length 16, code, pid, secret). */
export function cancelRequest(pid: number, secret: Buffer): Buffer {
  const b = Buffer.allocUnsafe(12 + secret.length);
  b.writeUInt32BE(12 + secret.length, 0);
  b.writeUInt32BE(80877102, 4);
  b.writeInt32BE(pid, 8);
  secret.copy(b, 12);
  return b;
}
