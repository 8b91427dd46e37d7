// Merkle engine benchmark: `npm run bench:merkle [-- --quick] [-- --json]`.
// The parent process only orchestrates: every (implementation, scenario) runs in its own child process
// (this script with `--child <task>`), so peak RSS (process.resourceUsage().maxRSS) is that measurement's alone.
// Children run one at a time so they do not compete for the machine's cores.
import { fork } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { TREE_IMPLS } from './impls.ts';
import { makeLeaves, proofIndices } from './leaves.ts';
import { loadMapAdapter } from './map.ts';

interface TreeTask {
  kind: 'tree';
  impl: string;
  size: number;
  proofs: number;
}
interface MapTask {
  kind: 'map';
  size: number;
  batch: number;
  proofs: number;
  diff: number;
}
interface BaselineTask {
  kind: 'baseline';
  size: number;
}
type Task = TreeTask | MapTask | BaselineTask;

interface TreeResult {
  buildMs: number;
  proveMs: number;
  proofs: number;
  verifyMs: number;
  siblingBytes: number;
  wireBytes: number;
  maxRssMB: number;
}
interface MapResult {
  insertKeysPerSec?: number;
  proofsPerSec?: number;
  absentProofsPerSec?: number;
  diffMs?: number;
  maxRssMB?: number;
}
type ChildReply = { ok: true; result: unknown } | { ok: false; error: string };

const _gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const _rssMB = (): number => process.resourceUsage().maxRSS / 1024;

// ---------------------------------------------------------------- child side

async function _runTree(task: TreeTask): Promise<TreeResult> {
  const impl = TREE_IMPLS.find((i) => i.name === task.impl);
  if (!impl) throw new Error(`unknown implementation ${task.impl}`);
  const leaves = makeLeaves(task.size);
  const build = await impl.prepare(leaves);
  _gc();
  let t = performance.now();
  const tree = build();
  const buildMs = performance.now() - t;
  const idx = proofIndices(task.proofs, task.size);
  const proofs: unknown[] = new Array(idx.length);
  // One untimed pass of the same work first, so every implementation is measured in its steady state
  // (JIT-compiled), not while V8 is still optimizing.
  for (let k = 0; k < idx.length; k++) tree.verify(idx[k]!, tree.prove(idx[k]!));
  t = performance.now();
  for (let k = 0; k < idx.length; k++) proofs[k] = tree.prove(idx[k]!);
  const proveMs = performance.now() - t;
  t = performance.now();
  let ok = 0;
  for (let k = 0; k < idx.length; k++) if (tree.verify(idx[k]!, proofs[k])) ok++;
  const verifyMs = performance.now() - t;
  if (ok !== idx.length) throw new Error(`${idx.length - ok} proofs did not verify`);
  let sib = 0;
  let wire = 0;
  for (const p of proofs) {
    sib += tree.siblingBytes(p);
    wire += tree.wireBytes(p);
  }
  return {
    buildMs,
    proveMs,
    proofs: idx.length,
    verifyMs,
    siblingBytes: sib / proofs.length,
    wireBytes: wire / proofs.length,
    maxRssMB: _rssMB(),
  };
}

async function _runMap(task: MapTask): Promise<MapResult> {
  const map = await loadMapAdapter();
  const keys = makeLeaves(task.size, 1);
  const values = makeLeaves(task.size, 2);
  _gc();
  let m = map.create();
  let t = performance.now();
  for (let b = 0; b < task.size; b += task.batch) m = map.insertBatch(m, keys.slice(b, b + task.batch), values.slice(b, b + task.batch));
  const insertKeysPerSec = task.size / ((performance.now() - t) / 1000);
  const idx = proofIndices(task.proofs, task.size);
  const absent = makeLeaves(task.proofs, 3);
  // Untimed warm-up pass, as for the trees.
  for (const i of idx) map.prove(m, keys[i]!);
  for (const k of absent) map.proveAbsent(m, k);
  t = performance.now();
  for (const i of idx) map.prove(m, keys[i]!);
  const proofsPerSec = task.proofs / ((performance.now() - t) / 1000);
  t = performance.now();
  for (const k of absent) map.proveAbsent(m, k);
  const absentProofsPerSec = task.proofs / ((performance.now() - t) / 1000);
  const changed = proofIndices(task.diff, task.size);
  const m2 = map.insertBatch(
    m,
    changed.map((i) => keys[i]!),
    makeLeaves(task.diff, 4),
  );
  map.diffCount(m2, m); // untimed warm-up (the other direction)
  t = performance.now();
  const n = map.diffCount(m, m2);
  const diffMs = performance.now() - t;
  if (n !== new Set(changed).size) throw new Error(`diff found ${n} changes, expected ${new Set(changed).size}`);
  return { insertKeysPerSec, proofsPerSec, absentProofsPerSec, diffMs, maxRssMB: _rssMB() };
}

async function _child(task: Task): Promise<unknown> {
  if (task.kind === 'tree') return _runTree(task);
  if (task.kind === 'map') return _runMap(task);
  makeLeaves(task.size);
  return { maxRssMB: _rssMB() };
}

// ---------------------------------------------------------------- parent side

function _spawn(task: Task, timeoutMs: number): Promise<ChildReply> {
  return new Promise((resolve) => {
    const child = fork(fileURLToPath(import.meta.url), ['--child', JSON.stringify(task)], {
      execArgv: ['--expose-gc', '--max-old-space-size=8192', '--disable-warning=ExperimentalWarning'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let reply: ChildReply | null = null;
    const timer = setTimeout(() => {
      reply = { ok: false, error: `timed out after ${timeoutMs / 1000} s` };
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('message', (m) => {
      reply ??= m as ChildReply;
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(reply ?? { ok: false, error: `child exited with code ${code}` });
    });
  });
}

interface Cell {
  value: number | null;
  unit: string;
  text: string;
}
type Figures = Record<string, Record<string, Cell>>;

const _fmtN = (n: number): string => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));
const _fmt = (v: number): string => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const _cell = (value: number, unit: string, suffix = ''): Cell => ({ value, unit, text: `${_fmt(value)} ${unit}${suffix}` });
const _blank = (text: string): Cell => ({ value: null, unit: '', text });

function _put(f: Figures, row: string, col: string, c: Cell): void {
  (f[row] ??= {})[col] = c;
}

async function _main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const json = process.argv.includes('--json');
  const sizes = quick ? [1_000, 10_000] : [100_000, 1_000_000];
  const proofs = quick ? 1_000 : 10_000;
  const mapTask: MapTask = quick
    ? { kind: 'map', size: 10_000, batch: 1_000, proofs: 1_000, diff: 100 }
    : { kind: 'map', size: 1_000_000, batch: 1_000, proofs: 10_000, diff: 1_000 };
  const timeoutMs = quick ? 60_000 : 240_000;
  const log = (s: string): void => {
    if (!json) process.stderr.write(s + '\n');
  };
  const started = performance.now();
  const figures: Figures = {};
  const cols: string[] = [];
  const notes: Record<string, string> = {};

  for (const impl of TREE_IMPLS) {
    cols.push(impl.name);
    notes[impl.name] = impl.note;
    const cap = impl.maxSize === undefined ? Infinity : quick ? impl.maxSize / 10 : impl.maxSize;
    let largest: { size: number; r: TreeResult } | null = null;
    for (const size of sizes) {
      const buildRow = `build ${_fmtN(size)} leaves`;
      const rssRow = `peak RSS, ${_fmtN(size)} leaves + proofs`;
      if (size > cap) {
        _put(figures, buildRow, impl.name, _blank(`skipped (> ${_fmtN(cap)})`));
        _put(figures, rssRow, impl.name, _blank('skipped'));
        continue;
      }
      log(`… ${impl.name}: ${_fmtN(size)} leaves`);
      const rep = await _spawn({ kind: 'tree', impl: impl.name, size, proofs }, timeoutMs);
      if (!rep.ok) {
        _put(figures, buildRow, impl.name, _blank(`error: ${rep.error}`));
        _put(figures, rssRow, impl.name, _blank('error'));
        continue;
      }
      const r = rep.result as TreeResult;
      _put(figures, buildRow, impl.name, _cell(r.buildMs, 'ms'));
      _put(figures, rssRow, impl.name, _cell(r.maxRssMB, 'MB'));
      largest = { size, r };
    }
    const at = largest && largest.size !== sizes[sizes.length - 1] ? ` (${_fmtN(largest.size)} tree)` : '';
    const proveRow = `${_fmtN(proofs)} proof generations`;
    const verifyRow = 'proof verifications';
    const sibRow = 'proof size: sibling hashes';
    const wireRow = 'proof size: own wire format';
    if (largest === null) {
      for (const row of [proveRow, verifyRow, sibRow, wireRow]) _put(figures, row, impl.name, _blank('n/a'));
      continue;
    }
    const { r } = largest;
    _put(figures, proveRow, impl.name, _cell(r.proveMs, 'ms', at));
    _put(figures, verifyRow, impl.name, _cell(r.proofs / (r.verifyMs / 1000), '/s', at));
    _put(figures, sibRow, impl.name, _cell(r.siblingBytes, 'B', at));
    _put(figures, wireRow, impl.name, _cell(r.wireBytes, 'B', at));
  }

  const mapCol = 'merklesync map';
  cols.push(mapCol);
  notes[mapCol] = `sparse Merkle map (src/map): ${_fmtN(mapTask.size)} keys inserted in batches of ${_fmtN(mapTask.batch)}; ${_fmtN(mapTask.proofs)} proofs; diff of maps differing in ${_fmtN(mapTask.diff)} keys`;
  log(`… map: ${_fmtN(mapTask.size)} keys`);
  const mrep = await _spawn(mapTask, timeoutMs);
  const mapRows = [
    [`map: insert ${_fmtN(mapTask.size)} keys`, 'insertKeysPerSec', 'keys/s'],
    [`map: membership proofs (${_fmtN(mapTask.size)} keys)`, 'proofsPerSec', '/s'],
    ['map: non-membership proofs', 'absentProofsPerSec', '/s'],
    [`map: diff, ${_fmtN(mapTask.diff)} keys differ`, 'diffMs', 'ms'],
    ['map: peak RSS', 'maxRssMB', 'MB'],
  ] as const;
  for (const [row, key, unit] of mapRows) {
    let c: Cell;
    if (!mrep.ok) c = _blank(`error: ${mrep.error}`);
    else {
      const r = mrep.result as MapResult;
      const v = r[key];
      c = v === undefined ? _blank('n/a') : _cell(v, unit);
    }
    _put(figures, row, mapCol, c);
  }

  const base = await _spawn({ kind: 'baseline', size: sizes[sizes.length - 1]! }, timeoutMs);
  const baseline = base.ok ? (base.result as { maxRssMB: number }).maxRssMB : null;
  const meta = {
    quick,
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    sizes,
    proofs,
    map: mapTask,
    baselineRssMB: baseline,
    totalSeconds: (performance.now() - started) / 1000,
  };

  if (json) {
    process.stdout.write(JSON.stringify({ meta, figures, notes }, null, 2) + '\n');
    return;
  }
  const rows = Object.keys(figures);
  const head = ['scenario', ...cols];
  const body = rows.map((row) => [row, ...cols.map((c) => figures[row]![c]?.text ?? '—')]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |';
  const out = [
    `Merkle benchmark — ${meta.cpu}, ${meta.cores} cores, Node ${meta.node}${quick ? ' (--quick sizes)' : ''}`,
    '',
    line(head),
    '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|',
    ...body.map(line),
    '',
    'Same leaves for every implementation (deterministic 32-byte values); each cell measured in its own child process.',
    'Verification includes hashing the leaf. Proof, verification and diff timings follow one untimed warm-up pass of the same work. Peak RSS is the whole child process: Node itself plus the leaves' +
      (baseline === null ? '.' : ` (baseline for ${_fmtN(sizes[sizes.length - 1]!)} leaves alone: ${_fmt(baseline)} MB).`),
    ...cols.map((c) => `- ${c}: ${notes[c]}`),
    `Total ${meta.totalSeconds.toFixed(1)} s.`,
  ];
  process.stdout.write(out.join('\n') + '\n');
}

const ci = process.argv.indexOf('--child');
if (ci >= 0) {
  const task = JSON.parse(process.argv[ci + 1]!) as Task;
  _child(task).then(
    (result) => process.send!({ ok: true, result } satisfies ChildReply, () => process.exit(0)),
    (e: unknown) => process.send!({ ok: false, error: e instanceof Error ? e.message : String(e) } satisfies ChildReply, () => process.exit(0)),
  );
} else {
  await _main();
}
