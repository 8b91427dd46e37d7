// The capture's SqlRunner on a node-postgres client: text results as arrays (no type parsing: the capture wants
// PostgreSQL's own text), parameters as given (binary ones as Buffers, which node-postgres binds in binary).
import type { SqlParam, SqlRunner } from '@merklesync/state-capture';
import type pg from 'pg';

const _RAW = { getTypeParser: () => (v: string) => v };

export function toPgValue(p: SqlParam): string | Buffer | null {
  return p.value === null ? null : typeof p.value === 'string' ? p.value : Buffer.from(p.value);
}

export class PgRunner implements SqlRunner {
  readonly #client: pg.ClientBase;
  constructor(client: pg.ClientBase) {
    this.#client = client;
  }

  async run(sql: string, params: readonly SqlParam[]): Promise<(string | null)[][]> {
    const r = await this.#client.query<(string | null)[]>({ text: sql, values: params.map(toPgValue), rowMode: 'array', types: _RAW });
    return r.rows;
  }
}
