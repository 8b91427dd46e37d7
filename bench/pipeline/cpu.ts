// CPU seconds of processes on this machine, read from /proc (Linux): the benchmarks' per-process accounting.
import { readFileSync, readdirSync } from 'node:fs';

const TICK = 100; // USER_HZ: /proc/<pid>/stat counts CPU in 1/100 s on Linux

/** User + system CPU seconds of a process (clock-tick resolution). @throws when there is no such process. */
export function procCpu(pid: number): number {
  return _statCpu(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** User + system CPU seconds of a process's or thread's `stat` line (fields 14 and 15, after the name in parentheses). */
function _statCpu(stat: string): number {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}

/**
 * CPU seconds of a Node process's V8 background threads (JIT compilation, concurrent and parallel GC: the threads
 * Node 24 names `V8Worker`), live threads only; 0 on a Node that leaves its threads unnamed (Node 20 calls them all
 * `node`). Undefined when the process is gone.
 */
export function v8WorkerCpu(pid: number): number | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  let sum = 0;
  for (const tid of tids) {
    try {
      // The thread's name is inside the parentheses of its stat line, so one read gives both.
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === 'V8Worker') sum += _statCpu(stat);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return sum;
}

/** procCpu, or undefined once the process is gone. */
function _cpuIfAlive(pid: number): number | undefined {
  try {
    return procCpu(pid);
  } catch {
    return undefined;
  }
}

/** This process's CPU seconds. */
export function selfCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** The first process whose command name (/proc/<pid>/comm) is `comm`. */
export function pidOf(comm: string): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === comm) return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/**
 * CPU spent by groups of processes over an interval. `track` may be called again while it runs (a service opens
 * database connections as it goes): a process first seen after `start` counts from zero, and each process's last
 * reading is kept, so one that ends before `stop` still counts up to the last `poll`.
 */
export class CpuMeter {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private readonly group = new Map<number, string>();
  /** Within a group, what the process is (e.g. which service's connection a Postgres backend serves). */
  private readonly part = new Map<number, string>();
  /** Node processes whose V8 worker threads are read too (first and last reading, as for the whole process). */
  private readonly v8First = new Map<number, number>();
  private readonly v8Last = new Map<number, number>();
  private started = false;

  /**
   * Counts `pid` under `group` from now (or from zero when the interval has already started); with `v8Workers`,
   * also the CPU of its V8 worker threads ({@link v8WorkerCpu}: a Node process); with `part`, also under that part
   * of the group ({@link parts}).
   */
  track(group: string, pid: number, v8Workers = false, part?: string): void {
    if (this.group.has(pid)) return;
    const c = _cpuIfAlive(pid);
    if (c === undefined) return;
    this.group.set(pid, group);
    if (part !== undefined) this.part.set(pid, part);
    this.first.set(pid, this.started ? 0 : c);
    this.last.set(pid, c);
    if (v8Workers) {
      const w = v8WorkerCpu(pid);
      if (w !== undefined) {
        this.v8First.set(pid, this.started ? 0 : w);
        this.v8Last.set(pid, w);
      }
    }
  }

  start(): void {
    for (const pid of this.group.keys()) {
      const c = _cpuIfAlive(pid);
      if (c !== undefined) {
        this.first.set(pid, c);
        this.last.set(pid, c);
      }
    }
    for (const pid of this.v8First.keys()) {
      const w = v8WorkerCpu(pid);
      if (w !== undefined) {
        this.v8First.set(pid, w);
        this.v8Last.set(pid, w);
      }
    }
    this.started = true;
  }

  /** Reads every tracked process now. */
  poll(): void {
    for (const pid of this.group.keys()) {
      const c = _cpuIfAlive(pid);
      if (c !== undefined) this.last.set(pid, c);
    }
  }

  /** CPU seconds per group since `start` (after a final poll). */
  stop(): Map<string, number> {
    this.poll();
    // V8 workers live as long as their process: read at start and stop only (each read lists every thread).
    for (const pid of this.v8First.keys()) {
      const w = v8WorkerCpu(pid);
      if (w !== undefined) this.v8Last.set(pid, w);
    }
    const out = new Map<string, number>();
    for (const [pid, g] of this.group) out.set(g, (out.get(g) ?? 0) + this._used(pid));
    return out;
  }

  /** CPU seconds of one tracked process between its first and last reading. */
  private _used(pid: number): number {
    return this.last.get(pid)! - this.first.get(pid)!;
  }

  /** Of {@link stop}'s figures, the CPU seconds per part of a group (call after stop): group → part → seconds. */
  parts(): Map<string, Map<string, number>> {
    const out = new Map<string, Map<string, number>>();
    for (const [pid, p] of this.part) {
      const g = this.group.get(pid)!;
      const m = out.get(g) ?? new Map<string, number>();
      out.set(g, m.set(p, (m.get(p) ?? 0) + this._used(pid)));
    }
    return out;
  }

  /**
   * Of {@link stop}'s figures, the CPU seconds of the V8 worker threads, per group tracked with `v8Workers` (read at
   * start and at stop: call after stop; a process gone by then keeps its reading from start, i.e. counts 0).
   */
  v8Workers(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [pid, first] of this.v8First) {
      const g = this.group.get(pid)!;
      out.set(g, (out.get(g) ?? 0) + (this.v8Last.get(pid)! - first));
    }
    return out;
  }
}
