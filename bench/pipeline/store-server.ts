// `--store-server own`: MerkleSync's store on a PostgreSQL server of its own, made for the run on this machine
// (initdb into a temporary directory, started on a free port, stopped and removed at teardown). A deployment has it
// that way: the store is never the source's database server. Sharing one server, the source's walsender reads the
// store's WAL too (it decodes every record of the cluster to find the source's), and the two databases' commits
// queue behind one WAL flush. With its own server both run as they would in production, still on the same cores.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './process.ts';

/** test/infra/services.sh's settings for the store's writes (without wal_level=logical: nothing decodes the store). */
const _SETTINGS = ['shared_buffers=1GB', 'max_wal_size=8GB', 'checkpoint_timeout=15min', 'wal_compression=lz4'];

export interface OwnServer {
  /** Connection string without a database. */
  readonly url: string;
  /** Stops the server and removes its directory; safe to call twice. */
  stop(): void;
}

/** PostgreSQL's programs: $PG_BIN, else `pg_config --bindir`, else the newest /usr/lib/postgresql/<version>/bin. */
function _binDir(): string {
  const fromEnv = process.env['PG_BIN'];
  if (fromEnv) return fromEnv;
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch {
    // no pg_config on PATH
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) throw new Error('--store-server own needs initdb and pg_ctl: set PG_BIN to PostgreSQL\'s bin directory');
  return join(root, newest, 'bin');
}

/**
 * Makes and starts a PostgreSQL server for the store (as the `postgres` user when run as root: initdb refuses root).
 * @throws Error with initdb's or pg_ctl's output when either fails (the directory is removed).
 */
export async function startStoreServer(): Promise<OwnServer> {
  const bin = _binDir();
  const dir = mkdtempSync(join(tmpdir(), 'merklesync-store-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const run = (program: string, args: string[]): void => {
    const file = join(bin, program);
    if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', file, ...args], { stdio: 'pipe' });
    else execFileSync(file, args, { stdio: 'pipe' });
  };
  let started = false;
  const stop = (): void => {
    if (started) {
      started = false;
      try {
        run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (asRoot) {
      const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(dir, id('-u'), id('-g'));
    }
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const port = await freePort();
    const options = [`-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', ..._SETTINGS.map((s) => `-c ${s}`)].join(' ');
    run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start']);
    started = true;
    return { url: `postgres://postgres@127.0.0.1:${port}`, stop };
  } catch (e) {
    stop();
    const out = (e as { stderr?: Buffer; stdout?: Buffer }).stderr?.toString() || (e as { stdout?: Buffer }).stdout?.toString() || '';
    throw new Error(`could not start the store's own PostgreSQL server: ${e instanceof Error ? e.message : String(e)}\n${out}`, { cause: e });
  }
}
