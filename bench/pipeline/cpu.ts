// CPU seconds of processes on this machine, read from /proc (Linux): the benchmarks' per-process accounting.
import { readFileSync, readdirSync } from 'node:fs';

const TICK = 100; // USER_HZ: /proc/<pid>/stat counts CPU in 1/100 s on Linux

/** User + system CPU seconds of a process (clock-tick resolution). @throws when there is no such process. */
export function procCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
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
  private started = false;

  /** Counts `pid` under `group` from now (or from zero when the interval has already started). */
  track(group: string, pid: number): void {
    if (this.group.has(pid)) return;
    const c = _cpuIfAlive(pid);
    if (c === undefined) return;
    this.group.set(pid, group);
    this.first.set(pid, this.started ? 0 : c);
    this.last.set(pid, c);
  }

  start(): void {
    for (const pid of this.group.keys()) {
      const c = _cpuIfAlive(pid);
      if (c !== undefined) {
        this.first.set(pid, c);
        this.last.set(pid, c);
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
    const out = new Map<string, number>();
    for (const [pid, g] of this.group) out.set(g, (out.get(g) ?? 0) + (this.last.get(pid)! - this.first.get(pid)!));
    return out;
  }
}
