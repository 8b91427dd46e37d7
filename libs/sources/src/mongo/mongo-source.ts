// MongoChangeStreamSource: MongoDB change streams (a collection, or a whole database) as ChangeBatches. Documents
// are committed as canonical Extended JSON (RowChange.document); `_id` is the key. The resume token of the last
// acknowledged event is persisted, so a restart resumes exactly after it: nothing acknowledged is read again,
// nothing unacknowledged is lost, and redelivered events carry the same ids (JetStream drops the copies).
import { MongoClient, type ChangeStream, type ChangeStreamDocument, type Document, type ResumeToken, BSON } from 'mongodb';
import { formatLsn } from '../lsn.ts';
import { SourceError, SourceErrorCode } from '../errors.ts';
import type { BatchPosition, ChangeBatch, RowChange } from '../types.ts';
import { DocumentEncodeError, toCanonicalEjson } from './ejson.ts';
import { Signal } from '../signal.ts';

/** Where resume tokens are kept between runs (a collection, a table, a file...). Tokens are EJSON text. */
export interface ResumeTokenStore {
  load(stream: string): Promise<string | null>;
  save(stream: string, token: string): Promise<void>;
}

/** In-memory {@link ResumeTokenStore} (tests): a restart with a new store starts from now. */
export class MemoryResumeTokenStore implements ResumeTokenStore {
  readonly #tokens = new Map<string, string>();
  load(stream: string): Promise<string | null> {
    return Promise.resolve(this.#tokens.get(stream) ?? null);
  }
  save(stream: string, token: string): Promise<void> {
    this.#tokens.set(stream, token);
    return Promise.resolve();
  }
}

/**
 * {@link ResumeTokenStore} in a MongoDB collection (`<database>.<collection>`, one document per stream). Keep that
 * database out of the watched one: its writes would be change events too.
 * @example new MongoResumeTokenStore(client, 'merklesync_state')
 */
export class MongoResumeTokenStore implements ResumeTokenStore {
  readonly #client: MongoClient;
  readonly #db: string;
  readonly #collection: string;
  constructor(client: MongoClient, database: string, collection = 'resume_tokens') {
    this.#client = client;
    this.#db = database;
    this.#collection = collection;
  }
  async load(stream: string): Promise<string | null> {
    const d = await this.#client.db(this.#db).collection<{ _id: string; token: string }>(this.#collection).findOne({ _id: stream });
    return d?.token ?? null;
  }
  async save(stream: string, token: string): Promise<void> {
    await this.#client.db(this.#db).collection<{ _id: string; token: string; at: Date }>(this.#collection).replaceOne({ _id: stream }, { token, at: new Date() }, { upsert: true });
  }
}

/** Configuration of a {@link MongoChangeStreamSource}. */
export interface MongoSourceConfig {
  /** Connection string, e.g. `mongodb://127.0.0.1:27017/?replicaSet=rs0`. */
  url: string;
  database: string;
  /** Watch these collections; absent or empty: the whole database (a database-level change stream). */
  collections?: string[];
  /** Key of the resume token in the store (one per source). */
  stream: string;
  /** Ask for pre-images (`fullDocumentBeforeChange: 'whenAvailable'`; MongoDB ≥ 6.0 with changeStreamPreAndPostImages). Default false. */
  preImages?: boolean;
  /** Read the collections once before streaming when no resume token is stored. Default true. */
  snapshot?: boolean;
  /** Most changes in one snapshot batch. Default 1000. */
  batch?: { maxChanges?: number };
  /** Queued plus unacknowledged batches before reading pauses. Default 64. */
  maxUnackedBatches?: number;
}

/** Ports of a {@link MongoChangeStreamSource}. */
export interface MongoSourceDeps {
  tokens: ResumeTokenStore;
  /** Defaults to `new MongoClient(url)`. */
  createClient?: (url: string) => MongoClient;
  warn?: (message: string) => void;
}

interface _Delivered {
  batch: ChangeBatch;
  /** Resume token to persist once this batch is acknowledged (null: nothing to persist, e.g. snapshot chunks). */
  token: string | null;
}

const _DECODE = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true } as const;

/** A BSON timestamp as a 64-bit position: seconds in the high half, increment in the low (like an LSN's halves). */
function _position(ts: BSON.Timestamp): bigint {
  return (BigInt(ts.high >>> 0) << 32n) | BigInt(ts.low >>> 0);
}

/**
 * MongoDB change events as ChangeBatches: one batch per cluster time (a single write, or all the writes of one
 * transaction), `commitLsn` = that cluster time as `seconds/increment` hex, `sourcePosition` = `t.i`. Guarantees:
 * libs/sources/README.md "MongoDB source".
 * @example
 * const source = new MongoChangeStreamSource({ url, database: 'shop', collections: ['orders'], stream: 'shop' }, { tokens: new MemoryResumeTokenStore() });
 * await source.start();
 * for await (const batch of source.batches()) { await publish(batch); await source.ack(batch); }
 */
export class MongoChangeStreamSource {
  readonly #cfg: MongoSourceConfig & { maxChanges: number; maxUnacked: number };
  readonly #deps: MongoSourceDeps;
  #client: MongoClient | null = null;
  #stream: ChangeStream | null = null;
  readonly #queue: _Delivered[] = [];
  readonly #delivered: _Delivered[] = [];
  #failure: SourceError | null = null;
  #running = false;
  #stopped = false;
  #reader: Promise<void> | null = null;
  /** A batch was queued (or the source stopped); room was freed for the reader. */
  readonly #ready = new Signal();
  readonly #room = new Signal();
  readonly stats = { events: 0, skipped: 0, snapshotDocuments: 0 };

  constructor(config: MongoSourceConfig, deps: MongoSourceDeps) {
    const bad = (why: string): never => {
      throw new SourceError(SourceErrorCode.InvalidConfig, `mongodb source: ${why}`);
    };
    if (!config.url) bad('url is required');
    if (!config.database) bad('database is required');
    if (!config.stream) bad('stream (the resume token key) is required');
    const maxChanges = config.batch?.maxChanges ?? 1000;
    const maxUnacked = config.maxUnackedBatches ?? 64;
    if (!Number.isSafeInteger(maxChanges) || maxChanges < 1) bad('batch.maxChanges must be a positive integer');
    if (!Number.isSafeInteger(maxUnacked) || maxUnacked < 1) bad('maxUnackedBatches must be a positive integer');
    this.#cfg = { ...config, maxChanges, maxUnacked };
    this.#deps = deps;
  }

  /**
   * Connects, opens the change stream (after the stored resume token, or from now), and when no token is stored
   * and `snapshot` is on, reads the collections first.
   * @throws SourceError(CONNECTION_LOST) when the server cannot be reached or refuses change streams.
   */
  async start(): Promise<void> {
    if (this.#running) return;
    if (this.#stopped) throw new SourceError(SourceErrorCode.NotRunning, 'mongodb source: stopped; create a new one');
    try {
      const client = this.#deps.createClient?.(this.#cfg.url) ?? new MongoClient(this.#cfg.url, { serverSelectionTimeoutMS: 10_000 });
      this.#client = client;
      await client.connect();
      const token = await this.#deps.tokens.load(this.#cfg.stream);
      const db = client.db(this.#cfg.database);
      const collections = this.#cfg.collections ?? [];
      const options = {
        fullDocument: 'updateLookup' as const,
        ...(this.#cfg.preImages ? { fullDocumentBeforeChange: 'whenAvailable' as const } : {}),
        ...(token !== null ? { resumeAfter: BSON.EJSON.parse(token) as ResumeToken } : {}),
        maxAwaitTimeMS: 500,
        ..._DECODE,
      };
      this.#stream =
        collections.length === 1
          ? db.collection(collections[0]!).watch([], options)
          : db.watch(collections.length > 1 ? [{ $match: { 'ns.coll': { $in: collections } } }] : [], options);
      this.#running = true;
      // The first getMore establishes the stream's start before the snapshot reads anything.
      const first = await this.#stream.tryNext();
      if (token === null && (this.#cfg.snapshot ?? true)) await this.#snapshot(collections.length > 0 ? collections : await this.#listCollections());
      this.#reader = this.#read(first);
    } catch (e) {
      await this.#close();
      if (e instanceof SourceError) throw e;
      throw new SourceError(SourceErrorCode.ConnectionLost, `mongodb source: cannot start on ${this.#cfg.database}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  async #listCollections(): Promise<string[]> {
    const all = await this.#client!.db(this.#cfg.database).listCollections({}, { nameOnly: true }).toArray();
    return all.map((c) => c.name).filter((n) => !n.startsWith('system.')).sort();
  }

  /** The collections' current documents as `snapshot` upserts (the stream opened before, so nothing is missed). */
  async #snapshot(collections: string[]): Promise<void> {
    const db = this.#client!.db(this.#cfg.database);
    const epoch = Date.now();
    let part = 0;
    let changes: RowChange[] = [];
    const flush = async (): Promise<void> => {
      // Snapshot chunks are named by this run's start: a snapshot retaken after a crash is new data, never a copy.
      this.#enqueue({
        batch: { kind: 'snapshot', xid: null, commitLsn: formatLsn(BigInt(epoch)), endLsn: null, commitTimeMicros: null, part: 0, last: true, changes, sourcePosition: `snapshot.${epoch}.${part++}` },
        token: null,
      });
      changes = [];
      await this.#waitForSpace();
    };
    for (const coll of collections) {
      for await (const doc of db.collection(coll).find({}, { sort: { _id: 1 }, ..._DECODE })) {
        const change = this.#documentChange('snapshot', coll, doc, null);
        if (change) changes.push(change);
        this.stats.snapshotDocuments++;
        if (changes.length >= this.#cfg.maxChanges) await flush();
      }
    }
    if (changes.length > 0) await flush();
  }

  #documentChange(op: RowChange['op'], coll: string, doc: Document | null | undefined, id: unknown): RowChange | null {
    const key: unknown = doc ? (doc['_id'] as unknown) : id;
    if (key === undefined || key === null) throw new DocumentEncodeError(`${this.#cfg.database}.${coll}: change without _id`);
    const base = { op, schema: this.#cfg.database, table: coll, primaryKey: [{ type: 'ejson' as const, text: toCanonicalEjson(key) }], row: null };
    if (op === 'delete') return doc ? { ...base, document: toCanonicalEjson(doc) } : base;
    if (!doc) return null;
    return { ...base, document: toCanonicalEjson(doc) };
  }

  #enqueue(d: _Delivered): void {
    this.#queue.push(d);
    this.#ready.notify();
  }

  async #waitForSpace(): Promise<void> {
    while (this.#running && !this.#failure && this.#queue.length + this.#delivered.length >= this.#cfg.maxUnacked) {
      await this.#room.wait();
    }
  }

  /** Reads the stream, one batch per cluster time, until stopped. */
  async #read(first: ChangeStreamDocument | null): Promise<void> {
    let pending: { ts: BSON.Timestamp; changes: RowChange[]; token: string } | null = null;
    const emit = (): void => {
      if (!pending) return;
      const pos = _position(pending.ts);
      this.#enqueue({
        batch: {
          kind: 'transaction',
          xid: null,
          commitLsn: formatLsn(pos),
          endLsn: formatLsn(pos),
          commitTimeMicros: BigInt(pending.ts.high >>> 0) * 1_000_000n,
          part: 0,
          last: true,
          changes: pending.changes,
          sourcePosition: `${pending.ts.high >>> 0}.${pending.ts.low >>> 0}`,
        },
        token: pending.token,
      });
      pending = null;
    };
    let next: ChangeStreamDocument | null = first;
    try {
      while (this.#running) {
        if (next === null) {
          emit();
          await this.#waitForSpace();
          if (!this.#running) break;
          next = await this.#stream!.tryNext();
          continue;
        }
        const ev = next;
        next = null;
        this.stats.events++;
        const ts = 'clusterTime' in ev && ev.clusterTime ? ev.clusterTime : null;
        if (ts === null) throw new SourceError(SourceErrorCode.Protocol, `mongodb source: change event without clusterTime (${ev.operationType})`);
        if (pending && (pending.ts.high !== ts.high || pending.ts.low !== ts.low)) {
          emit();
          // Bounded memory however fast events arrive: wait while the consumer is maxUnackedBatches behind.
          await this.#waitForSpace();
          if (!this.#running) break;
        }
        const token = BSON.EJSON.stringify(ev._id, { relaxed: false });
        pending ??= { ts, changes: [], token };
        pending.token = token;
        const change = this.#eventChange(ev);
        if (change) pending.changes.push(change);
        else this.stats.skipped++;
        // More events may already be buffered: take them without waiting, so a transaction stays one batch.
        next = await this.#stream!.tryNext();
      }
      emit();
    } catch (e) {
      if (!this.#running) return;
      this.#fail(e instanceof SourceError ? e : new SourceError(e instanceof DocumentEncodeError ? SourceErrorCode.Decode : SourceErrorCode.ConnectionLost, `mongodb source: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
    }
  }

  /** The event's collection: `ns.coll`, or the one watched collection (some wire-compatible servers omit `ns`). */
  #collectionOf(ev: ChangeStreamDocument): string {
    const ns = 'ns' in ev ? (ev.ns as { coll?: string } | undefined) : undefined;
    const only = this.#cfg.collections?.length === 1 ? this.#cfg.collections[0] : undefined;
    const coll = ns?.coll ?? only;
    if (coll === undefined) throw new SourceError(SourceErrorCode.Protocol, `mongodb source: ${ev.operationType} event without ns: cannot tell its collection`);
    return coll;
  }

  #eventChange(ev: ChangeStreamDocument): RowChange | null {
    switch (ev.operationType) {
      case 'insert':
        return this.#documentChange('insert', this.#collectionOf(ev), ev.fullDocument, ev.documentKey._id);
      case 'update':
      case 'replace': {
        // updateLookup: the document as it is now. null means it was deleted since; its delete event follows.
        // (Some wire-compatible servers send the update's delta, without _id, instead of null.)
        const doc = ev.fullDocument ?? null;
        if (doc === null || doc['_id'] === undefined) return null;
        return this.#documentChange('update', this.#collectionOf(ev), doc, doc['_id']);
      }
      case 'delete': {
        const pre = 'fullDocumentBeforeChange' in ev ? (ev.fullDocumentBeforeChange ?? null) : null;
        const c = this.#documentChange('delete', this.#collectionOf(ev), null, ev.documentKey._id);
        return c && pre ? { ...c, document: toCanonicalEjson(pre) } : c;
      }
      case 'drop':
      case 'rename':
      case 'dropDatabase':
      case 'invalidate':
        throw new SourceError(SourceErrorCode.PublicationMismatch, `mongodb source: ${ev.operationType} event: the watched collection set changed; restart the source (a drop is not a row change the maps can express)`);
      default:
        return null;
    }
  }

  /** Batches in order: snapshot chunks, then one batch per cluster time. */
  async *batches(): AsyncGenerator<ChangeBatch> {
    for (;;) {
      const d = this.#queue.shift();
      if (d) {
        this.#delivered.push(d);
        yield d.batch;
        continue;
      }
      if (this.#failure) throw this.#failure;
      if (this.#stopped || !this.#running) return;
      await this.#ready.wait();
    }
  }

  /**
   * Cumulative: this batch and all delivered before it; persists the resume token of the last streamed event among them.
   * @throws SourceError(INVALID_ACK) for a position never delivered.
   */
  async ack(position: BatchPosition): Promise<void> {
    const i = this.#delivered.findIndex((d) => d.batch.kind === position.kind && d.batch.sourcePosition === position.sourcePosition && d.batch.commitLsn === position.commitLsn);
    if (i < 0) throw new SourceError(SourceErrorCode.InvalidAck, `mongodb source: ack of ${position.kind} ${position.sourcePosition ?? position.commitLsn}: not delivered or already acknowledged`);
    const done = this.#delivered.splice(0, i + 1);
    this.#room.notify();
    const token = done.map((d) => d.token).filter((t): t is string => t !== null).at(-1);
    if (token !== undefined) await this.#deps.tokens.save(this.#cfg.stream, token);
  }

  /** Stops reading and closes the client. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#running = false;
    this.#ready.notify();
    this.#room.notify();
    await this.#close();
    await this.#reader?.catch(() => undefined);
  }

  async #close(): Promise<void> {
    const s = this.#stream;
    const c = this.#client;
    this.#stream = null;
    this.#client = null;
    await s?.close().catch(() => undefined);
    await c?.close().catch(() => undefined);
  }

  #fail(e: SourceError): void {
    this.#failure ??= e;
    this.#running = false;
    this.#ready.notify();
    this.#room.notify();
  }
}
