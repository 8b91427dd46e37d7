// Consistency of the Kubernetes manifests with the services, without a cluster: every YAML document parses; each
// Deployment sets only variables its app's src/config.ts reads (plus the OTEL_* ones libs/telemetry reads, when its
// main.ts starts telemetry), and every variable that app requires (or whose default is a loopback address, useless
// in a pod); each exports traces under its own service.name to an endpoint a Service of the overlay exposes (the
// deploy/observability component's Jaeger); only ingest mounts the master key and only merkle the signer
// key; every command runs dist/apps/<app>/main.js from the image the Dockerfile builds; every kustomization lists
// its files. The checks run over an in-memory copy of the files, so the last tests mutate it to show they fail.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const DEPLOY = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = join(DEPLOY, '..');
const APPS = ['ingest', 'merkle', 'prover', 'gateway', 'proxy', 'replay'] as const;
type App = (typeof APPS)[number];
const OVERLAYS = ['overlays/dev', 'overlays/prod'] as const;
/** The OTEL_* variables every service reads through libs/telemetry's startTelemetry. */
const TELEMETRY_CONFIG = 'libs/telemetry/src/config.ts';

/** Key Secrets and the one app allowed to mount each (the trust model: no data key outside ingest). */
const KEY_SECRETS: Readonly<Record<string, { app: App; fileVar: string }>> = {
  'ingest-master-key': { app: 'ingest', fileVar: 'INGEST_KEY_FILE' },
  'merkle-signer-key': { app: 'merkle', fileVar: 'MERKLE_CHECKPOINT_KEY_FILE' },
  // The SQL proxy and replay see rows by design (they capture and replay them): each mounts its own copy.
  'proxy-master-key': { app: 'proxy', fileVar: 'PROXY_KEY_FILE' },
  'replay-master-key': { app: 'replay', fileVar: 'REPLAY_KEY_FILE' },
};

/** Repository files by path relative to the root ('/'-separated). Key files are listed, never read. */
type Tree = Map<string, string>;

function _walk(dir: string, out: Tree): void {
  for (const name of readdirSync(dir)) {
    const abs = join(dir, name);
    const rel = relative(ROOT, abs).split(sep).join('/');
    if (statSync(abs).isDirectory()) _walk(abs, out);
    else out.set(rel, rel.includes('/keys/') ? '' : readFileSync(abs, 'utf8'));
  }
}

function readTree(): Tree {
  const tree: Tree = new Map();
  _walk(DEPLOY, tree);
  for (const app of APPS)
    for (const f of ['config.ts', 'main.ts']) tree.set(`apps/${app}/src/${f}`, readFileSync(join(ROOT, 'apps', app, 'src', f), 'utf8'));
  tree.set(TELEMETRY_CONFIG, readFileSync(join(ROOT, TELEMETRY_CONFIG), 'utf8'));
  return tree;
}

// --- YAML access (documents are untyped; these narrow them) ---------------------------------------------------
type Obj = Record<string, unknown>;
const _isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const _obj = (v: unknown): Obj => (_isObj(v) ? v : {});
const _arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const _str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function docsOf(tree: Tree, path: string, problems: string[]): Obj[] {
  const text = tree.get(path);
  if (text === undefined) {
    problems.push(`${path}: missing`);
    return [];
  }
  const out: Obj[] = [];
  for (const doc of parseAllDocuments(text)) {
    for (const e of doc.errors) problems.push(`${path}: YAML error ${e.message}`);
    const v: unknown = doc.toJS();
    if (v !== null && v !== undefined) out.push(_obj(v));
  }
  return out;
}

function parseEnvFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const i = t.indexOf('=');
    out.set(i < 0 ? t : t.slice(0, i), i < 0 ? '' : t.slice(i + 1));
  }
  return out;
}

// --- kustomize, the parts these manifests use ---------------------------------------------------------------------
interface Rendered {
  /** Generated ConfigMap/Secret name → variables (envs files and literals, merged over the base). */
  generated: Map<string, Map<string, string>>;
  /** Generated Secret name → file keys (`files:` entries). */
  files: Map<string, Set<string>>;
  /** Resources and patches, in order (a later document of the same kind/name is a patch over the earlier). */
  docs: Obj[];
}

function render(tree: Tree, dir: string, problems: string[], into?: Rendered): Rendered {
  const kpath = `${dir}/kustomization.yaml`;
  const k = docsOf(tree, kpath, problems)[0] ?? {};
  const out: Rendered = into ?? { generated: new Map(), files: new Map(), docs: [] };
  for (const r of _arr(k['resources']).map(_str)) {
    if (r === undefined) continue;
    const p = posix.normalize(`${dir}/${r}`);
    if (tree.has(`${p}/kustomization.yaml`)) {
      const base = render(tree, p, problems);
      for (const [n, v] of base.generated) out.generated.set(n, v);
      for (const [n, v] of base.files) out.files.set(n, v);
      out.docs.push(...base.docs);
    } else out.docs.push(...docsOf(tree, p, problems));
  }
  // Components (kind: Component) apply onto what the resources produced, before this folder's own generators:
  // their generators may merge into the base's.
  for (const c of _arr(k['components']).map(_str)) {
    if (c === undefined) continue;
    const p = posix.normalize(`${dir}/${c}`);
    const ck = docsOf(tree, `${p}/kustomization.yaml`, problems)[0];
    if (ck?.['kind'] !== 'Component') problems.push(`${kpath}: component ${c} is not a kustomize Component`);
    else render(tree, p, problems, out);
  }
  for (const gen of [..._arr(k['configMapGenerator']), ..._arr(k['secretGenerator'])].map(_obj)) {
    const name = _str(gen['name']) ?? '?';
    const merge = _str(gen['behavior']) === 'merge';
    if (merge && !out.generated.has(name)) problems.push(`${kpath}: merges into ${name}, which the base does not generate`);
    const vars = merge ? new Map(out.generated.get(name)) : new Map<string, string>();
    for (const e of _arr(gen['envs']).map(_str)) {
      if (e === undefined) continue;
      const p = posix.normalize(`${dir}/${e}`);
      // A file holding passwords is not committed; its committed .example names the same variables.
      const text = tree.get(p) ?? tree.get(`${p}.example`);
      if (text === undefined) problems.push(`${kpath}: ${e} (or ${e}.example) missing`);
      else for (const [key, v] of parseEnvFile(text)) vars.set(key, v);
    }
    for (const l of _arr(gen['literals']).map(_str)) {
      if (l === undefined) continue;
      const i = l.indexOf('=');
      vars.set(l.slice(0, i), l.slice(i + 1));
    }
    for (const f of _arr(gen['files']).map(_str)) {
      if (f === undefined) continue;
      const [key = '', src = ''] = f.includes('=') ? f.split('=') : [posix.basename(f), f];
      // Key files are never committed: they must come from the overlay's git-ignored keys/ folder.
      if (!src.startsWith('keys/') || !tree.has(`${dir}/keys/.gitignore`)) problems.push(`${kpath}: ${name} must read ${f} from a git-ignored keys/ folder`);
      out.files.set(name, new Set([...(out.files.get(name) ?? []), key]));
    }
    out.generated.set(name, vars);
  }
  for (const p of _arr(k['patches']).map(_obj)) {
    const path = _str(p['path']);
    if (path !== undefined) out.docs.push(...docsOf(tree, posix.normalize(`${dir}/${path}`), problems));
  }
  return out;
}

/** The documents of one kind and name, base first then patches. */
function _all(r: Rendered, kind: string, name: string): Obj[] {
  return r.docs.filter((d) => d['kind'] === kind && _obj(d['metadata'])['name'] === name);
}

/** The last value a path takes across the base document and its patches. */
function _last(docs: Obj[], get: (d: Obj) => unknown): unknown {
  let v: unknown;
  for (const d of docs) {
    const x = get(d);
    if (x !== undefined) v = x;
  }
  return v;
}

const _podSpec = (d: Obj): Obj => _obj(_obj(_obj(d['spec'])['template'])['spec']);
const _containers = (d: Obj): Obj[] => _arr(_podSpec(d)['containers']).map(_obj);

// --- what each app's config reads ---------------------------------------------------------------------------------
interface AppVars {
  /** Every `<PREFIX>_X` name config.ts mentions. */
  read: Set<string>;
  /** Names without a default, plus names whose default is a loopback address. */
  required: Set<string>;
}

function appVars(tree: Tree, app: App): AppVars {
  const text = tree.get(`apps/${app}/src/config.ts`) ?? '';
  const prefix = `${app.toUpperCase()}_`;
  const read = new Set([...text.matchAll(new RegExp(`\\b${prefix}[A-Z0-9_]+\\b`, 'g'))].map((m) => m[0]));
  // The tracing variables, read by libs/telemetry when main.ts starts it (all optional).
  if ((tree.get(`apps/${app}/src/main.ts`) ?? '').includes('startTelemetry(')) for (const m of (tree.get(TELEMETRY_CONFIG) ?? '').matchAll(/'(OTEL_[A-Z0-9_]+)'/g)) read.add(m[1] ?? '');
  const required = new Set<string>();
  // ingest: _required(env, 'X'); merkle: _str(env, 'X') without its fallback argument (prover's and gateway's
  // _str take none: their defaults are the *_ENV table's).
  for (const m of text.matchAll(/_required\(env, '([A-Z0-9_]+)'\)/g)) required.add(m[1] ?? '');
  if (/function _str\([^)]*fallback/.test(text)) for (const m of text.matchAll(/_str\(env, '([A-Z0-9_]+)'\)/g)) required.add(m[1] ?? '');
  for (const line of text.split('\n')) if (line.includes('127.0.0.1')) for (const m of line.matchAll(new RegExp(`\\b${prefix}[A-Z0-9_]+\\b`, 'g'))) required.add(m[0]);
  required.delete('');
  return { read, required };
}

// --- the checks ---------------------------------------------------------------------------------------------------
function checkOverlay(tree: Tree, overlay: string): string[] {
  const problems: string[] = [];
  const r = render(tree, overlay, problems);
  const envOf = new Map<App, Map<string, string>>();
  for (const app of APPS) {
    const deps = _all(r, 'Deployment', app);
    const base = deps[0];
    if (base === undefined) {
      problems.push(`${overlay}: no Deployment ${app}`);
      continue;
    }
    const where = `${overlay}: Deployment ${app}`;
    const c = _containers(base)[0] ?? {};
    if (JSON.stringify(c['command']) !== JSON.stringify(['node', `dist/apps/${app}/main.js`])) problems.push(`${where}: command must be node dist/apps/${app}/main.js, got ${JSON.stringify(c['command'])}`);
    if (c['workingDir'] !== '/app') problems.push(`${where}: workingDir must be /app (the image's WORKDIR)`);
    if (c['image'] !== 'merklesync') problems.push(`${where}: image must be merklesync (the overlays set registry and tag)`);
    if (typeof _podSpec(base)['terminationGracePeriodSeconds'] !== 'number') problems.push(`${where}: terminationGracePeriodSeconds missing (the apps drain on SIGTERM)`);
    const res = _obj(c['resources']);
    if (!_isObj(res['requests']) || !_isObj(res['limits'])) problems.push(`${where}: resource requests and limits required`);

    // Variables: explicit env plus every envFrom source, and every patch's env.
    const vars = new Map<string, string>();
    for (const d of deps)
      for (const cc of _containers(d)) {
        for (const e of _arr(cc['env']).map(_obj)) vars.set(_str(e['name']) ?? '?', _str(e['value']) ?? '(from a reference)');
        for (const src of _arr(cc['envFrom']).map(_obj)) {
          const name = _str(_obj(src['configMapRef'])['name']) ?? _str(_obj(src['secretRef'])['name']) ?? '?';
          if (!name.startsWith(`${app}-`)) problems.push(`${where}: reads ${name}, another service's configuration`);
          const g = r.generated.get(name);
          if (g === undefined) problems.push(`${where}: envFrom ${name} is generated nowhere`);
          else for (const [k, v] of g) vars.set(k, v);
        }
      }
    const { read, required } = appVars(tree, app);
    for (const v of vars.keys()) if (!read.has(v)) problems.push(`${where}: sets ${v}, which apps/${app}/src/config.ts does not read`);
    for (const v of required) if (!vars.get(v)) problems.push(`${where}: does not set ${v}, which apps/${app}/src/config.ts requires (or defaults to loopback)`);
    envOf.set(app, vars);

    // Tracing: spans under the app's own name, to an endpoint a Service of this overlay exposes (a bare host name
    // is a Service in the namespace; a qualified one is outside the manifests and not checked).
    if (vars.get('OTEL_SERVICE_NAME') !== app) problems.push(`${where}: OTEL_SERVICE_NAME must be ${app} (its name in traces), got ${String(vars.get('OTEL_SERVICE_NAME'))}`);
    const endpoint = vars.get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? vars.get('OTEL_EXPORTER_OTLP_ENDPOINT');
    if (endpoint === undefined || endpoint === '') problems.push(`${where}: does not set OTEL_EXPORTER_OTLP_ENDPOINT (no traces would be exported)`);
    else {
      const u = URL.canParse(endpoint) ? new URL(endpoint) : undefined;
      const port = u === undefined ? NaN : Number(u.port || (u.protocol === 'https:' ? 443 : 80));
      if (u === undefined) problems.push(`${where}: OTEL_EXPORTER_OTLP_ENDPOINT=${endpoint} is not a URL`);
      else if (!u.hostname.includes('.')) {
        const svc = _all(r, 'Service', u.hostname)[0];
        const ports = _arr(_obj(svc?.['spec'])['ports']).map((p) => _obj(p)['port']);
        if (!ports.includes(port)) problems.push(`${where}: OTEL_EXPORTER_OTLP_ENDPOINT=${endpoint}, but no Service ${u.hostname} exposes port ${port}`);
      }
    }

    // Key material: each key Secret only in its app, mounted where the app's *_KEY_FILE variable points.
    for (const d of deps) {
      const spec = _podSpec(d);
      for (const vol of _arr(spec['volumes']).map(_obj)) {
        const secret = _obj(vol['secret']);
        const secretName = _str(secret['secretName']);
        if (secretName === undefined || !(secretName in KEY_SECRETS)) continue;
        const owner = KEY_SECRETS[secretName];
        if (owner === undefined || owner.app !== app) {
          problems.push(`${where}: mounts ${secretName}, which only ${owner?.app ?? '?'} may hold`);
          continue;
        }
        const mount = _containers(d)
          .flatMap((cc) => _arr(cc['volumeMounts']).map(_obj))
          .find((m) => m['name'] === vol['name']);
        const file = vars.get(owner.fileVar) ?? '';
        const items = _arr(secret['items']).map(_obj);
        const mountPath = _str(mount?.['mountPath']) ?? '';
        const item = items.find((i) => `${mountPath}/${_str(i['path']) ?? ''}` === file);
        if (item === undefined) problems.push(`${where}: ${owner.fileVar}=${file} is not a file of the mounted ${secretName}`);
        else if (!r.files.get(secretName)?.has(_str(item['key']) ?? '')) problems.push(`${where}: ${secretName} has no key ${String(item['key'])}`);
      }
    }
    for (const [secretName, owner] of Object.entries(KEY_SECRETS)) {
      if (owner.app !== app) continue;
      const mounted = deps.some((d) => _arr(_podSpec(d)['volumes']).some((v) => _obj(_obj(v)['secret'])['secretName'] === secretName));
      if (!mounted) problems.push(`${where}: does not mount ${secretName}`);
    }
  }

  // Replicas and disruption: one ingest per source, one merkle writer; prover and gateway >= 2 with HPA and PDB.
  for (const app of ['ingest', 'merkle'] as const) {
    const deps = _all(r, 'Deployment', app);
    if (_last(deps, (d) => _obj(d['spec'])['replicas']) !== 1) problems.push(`${overlay}: ${app} must have exactly 1 replica`);
    if (_last(deps, (d) => _obj(_obj(d['spec'])['strategy'])['type']) !== 'Recreate') problems.push(`${overlay}: ${app} must use the Recreate strategy (never two at once)`);
    if (_all(r, 'HorizontalPodAutoscaler', app).length > 0) problems.push(`${overlay}: ${app} must not autoscale`);
  }
  for (const app of ['prover', 'gateway'] as const) {
    const hpa = _all(r, 'HorizontalPodAutoscaler', app);
    const min = _last(hpa, (d) => _obj(d['spec'])['minReplicas']);
    if (hpa.length === 0 || typeof min !== 'number' || min < 2) problems.push(`${overlay}: ${app} needs an HPA with minReplicas >= 2`);
    if (_all(r, 'PodDisruptionBudget', app).length === 0) problems.push(`${overlay}: ${app} needs a PodDisruptionBudget`);
  }

  // The gateway Service exposes the ports the gateway listens on.
  const gw = envOf.get('gateway');
  const svc = _all(r, 'Service', 'gateway')[0];
  const ports = new Map(_arr(_obj(svc?.['spec'])['ports']).map((p) => [_str(_obj(p)['name']), _obj(p)['port']]));
  if (String(ports.get('http')) !== gw?.get('GATEWAY_HTTP_PORT') || String(ports.get('grpc')) !== gw?.get('GATEWAY_GRPC_PORT')) problems.push(`${overlay}: Service gateway must expose GATEWAY_HTTP_PORT and GATEWAY_GRPC_PORT as http and grpc`);

  // Values the services must agree on.
  const same = (label: string, pairs: [App, string][]): void => {
    const values = new Set(pairs.map(([a, v]) => envOf.get(a)?.get(v)));
    if (values.size !== 1) problems.push(`${overlay}: ${label} differ: ${pairs.map(([a, v]) => `${v}=${String(envOf.get(a)?.get(v))}`).join(', ')}`);
  };
  same('hash suites', [['merkle', 'MERKLE_HASH_SUITE'], ['prover', 'PROVER_HASH_SUITE'], ['gateway', 'GATEWAY_HASH_SUITE']]);
  same('store schemas', [['merkle', 'MERKLE_DB_SCHEMA'], ['prover', 'PROVER_DB_SCHEMA'], ['gateway', 'GATEWAY_DB_SCHEMA']]);
  same('log ids', [['merkle', 'MERKLE_LOG_ID'], ['prover', 'PROVER_LOG_ID'], ['gateway', 'GATEWAY_LOG_ID']]);
  same('change subject prefixes', [['ingest', 'INGEST_SUBJECT_PREFIX'], ['merkle', 'MERKLE_SUBJECT_PREFIX']]);
  same('change streams', [['ingest', 'INGEST_CHANGES_STREAM'], ['merkle', 'MERKLE_CHANGES_STREAM']]);
  same('prover prefixes', [['prover', 'PROVER_SUBJECT_PREFIX'], ['gateway', 'GATEWAY_PROVER_PREFIX']]);
  same('proxy/replay commitments streams', [['proxy', 'PROXY_COMMITMENTS_STREAM'], ['replay', 'REPLAY_COMMITMENTS_STREAM']]);
  same('proxy/replay commitments subjects', [['proxy', 'PROXY_COMMITMENTS_SUBJECT'], ['replay', 'REPLAY_COMMITMENTS_SUBJECT']]);
  same('proxy/replay/ingest source ids', [['proxy', 'PROXY_SOURCE_ID'], ['replay', 'REPLAY_SOURCE_ID'], ['ingest', 'INGEST_SOURCE_NAME']]);
  same('proxy/replay/ingest key ids', [['proxy', 'PROXY_KEY_ID'], ['replay', 'REPLAY_KEY_ID'], ['ingest', 'INGEST_KEY_ID']]);
  same('proxy/replay commitment versions', [['proxy', 'PROXY_COMMITMENT_KEY_VERSION'], ['replay', 'REPLAY_COMMITMENT_KEY_VERSION'], ['ingest', 'INGEST_COMMITMENT_KEY_VERSION']]);
  same('proxy/replay hash suites', [['proxy', 'PROXY_HASH_SUITE'], ['replay', 'REPLAY_HASH_SUITE'], ['merkle', 'MERKLE_HASH_SUITE']]);
  return problems;
}

/** Every file of a kustomization folder is listed (resources, generator inputs, patches), and nothing else. */
function checkListed(tree: Tree, dir: string): string[] {
  const problems: string[] = [];
  const k = docsOf(tree, `${dir}/kustomization.yaml`, problems)[0] ?? {};
  const listed = new Set<string>();
  for (const r of _arr(k['resources']).map(_str)) if (r !== undefined && !r.startsWith('..')) listed.add(posix.normalize(`${dir}/${r}`));
  for (const gen of [..._arr(k['configMapGenerator']), ..._arr(k['secretGenerator'])].map(_obj))
    for (const e of _arr(gen['envs']).map(_str)) if (e !== undefined) listed.add(posix.normalize(`${dir}/${e}`));
  for (const p of _arr(k['patches']).map(_obj)) {
    const path = _str(p['path']);
    if (path !== undefined) listed.add(posix.normalize(`${dir}/${path}`));
  }
  for (const f of listed) if (!tree.has(f) && !tree.has(`${f}.example`)) problems.push(`${dir}/kustomization.yaml: lists ${f}, which does not exist`);
  for (const f of tree.keys()) {
    if (!f.startsWith(`${dir}/`) || f.includes('/keys/') || f.endsWith('/.gitignore') || f === `${dir}/kustomization.yaml`) continue;
    const base = f.replace(/\.example$/, '');
    if (!/\.(ya?ml|env)$/.test(base)) continue;
    if (!listed.has(base)) problems.push(`${dir}/kustomization.yaml: does not list ${f}`);
  }
  return problems;
}

/** The image builds every app and runs from /app with dist/apps in it. */
function checkDockerfile(tree: Tree): string[] {
  const text = tree.get('deploy/Dockerfile') ?? '';
  const problems: string[] = [];
  const loop = /for app in ([a-z ]+); do node tools\/build-app\.mjs "\$app"/.exec(text)?.[1]?.split(' ') ?? [];
  for (const app of APPS) if (!loop.includes(app)) problems.push(`deploy/Dockerfile: does not build ${app}`);
  const runtime = text.split(/^FROM /m).at(-1) ?? '';
  if (!/^WORKDIR \/app$/m.test(runtime)) problems.push('deploy/Dockerfile: the runtime stage must have WORKDIR /app');
  if (!/^COPY --from=build .*\/app\/dist\/apps \.\/dist\/apps$/m.test(runtime)) problems.push('deploy/Dockerfile: the runtime stage must copy dist/apps');
  if (!/^COPY --from=build .*\/app\/node_modules \.\/node_modules$/m.test(runtime)) problems.push('deploy/Dockerfile: the runtime stage must copy node_modules');
  return problems;
}

function allProblems(tree: Tree): string[] {
  return [...OVERLAYS.flatMap((o) => checkOverlay(tree, `deploy/${o}`)), ...['deploy/base', 'deploy/observability', ...OVERLAYS.map((o) => `deploy/${o}`)].flatMap((d) => checkListed(tree, d)), ...checkDockerfile(tree)];
}

/** A copy of the tree with `from` replaced by `to` in one file (the replacement must happen). */
function mutate(tree: Tree, path: string, from: string | RegExp, to: string): Tree {
  const copy = new Map(tree);
  const text = copy.get(path) ?? '';
  const next = text.replace(from, to);
  if (next === text) throw new Error(`mutation of ${path} did not apply`);
  copy.set(path, next);
  return copy;
}

describe('deploy manifests', () => {
  const tree = readTree();

  it('parse: every YAML document of deploy/', () => {
    const problems: string[] = [];
    const files = [...tree.keys()].filter((f) => /\.ya?ml$/.test(f));
    for (const f of files) docsOf(tree, f, problems);
    expect(problems).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(9);
  });

  it('are consistent with the services, the Dockerfile and the kustomizations (dev and prod)', () => {
    expect(allProblems(tree)).toEqual([]);
  });

  it('the checks read real config.ts requirements', () => {
    expect([...appVars(tree, 'ingest').required].sort()).toEqual(['INGEST_KEY_FILE', 'INGEST_KEY_ID', 'INGEST_NATS_SERVERS', 'INGEST_PG_URL', 'INGEST_SOURCE_NAME']);
    expect([...appVars(tree, 'merkle').required].sort()).toEqual(['MERKLE_CHECKPOINT_KEY_FILE', 'MERKLE_DATABASE_URL', 'MERKLE_NATS_SERVERS']);
    expect([...appVars(tree, 'prover').required].sort()).toEqual(['PROVER_DATABASE_URL', 'PROVER_NATS_SERVERS']);
    expect([...appVars(tree, 'gateway').required].sort()).toEqual(['GATEWAY_DATABASE_URL', 'GATEWAY_NATS_SERVERS']);
    expect([...appVars(tree, 'proxy').required].sort()).toEqual(['PROXY_BACKEND_HOST', 'PROXY_LISTEN_HOST', 'PROXY_NATS_SERVERS']);
    expect([...appVars(tree, 'replay').required].sort()).toEqual(['REPLAY_NATS_SERVERS', 'REPLAY_RESULTS_DATABASE_URL', 'REPLAY_VERIFICATION_URL']);
  });

  describe('fail on a broken copy', () => {
    it('a typo in a variable name (unknown variable and missing required one)', () => {
      const p = allProblems(mutate(tree, 'deploy/overlays/dev/secrets/ingest.env', 'INGEST_PG_URL=', 'INGEST_PG_ULR='));
      expect(p).toContain('deploy/overlays/dev: Deployment ingest: sets INGEST_PG_ULR, which apps/ingest/src/config.ts does not read');
      expect(p).toContain('deploy/overlays/dev: Deployment ingest: does not set INGEST_PG_URL, which apps/ingest/src/config.ts requires (or defaults to loopback)');
    });

    it("another service's variable in a ConfigMap", () => {
      const p = allProblems(mutate(tree, 'deploy/base/config/prover.env', 'PROVER_HEAD_TTL_MS=', 'GATEWAY_HEAD_TTL_MS='));
      expect(p).toContain('deploy/overlays/prod: Deployment prover: sets GATEWAY_HEAD_TTL_MS, which apps/prover/src/config.ts does not read');
    });

    it('the master key mounted by the gateway', () => {
      const p = allProblems(mutate(tree, 'deploy/base/gateway.yaml', /volumes:\n {8}- name: tmp/, 'volumes:\n        - name: leak\n          secret:\n            secretName: ingest-master-key\n        - name: tmp'));
      expect(p).toContain('deploy/overlays/dev: Deployment gateway: mounts ingest-master-key, which only ingest may hold');
    });

    it('the key file variable pointing outside the mounted Secret', () => {
      const p = allProblems(mutate(tree, 'deploy/base/config/merkle.env', 'signer-key/log.key', 'signer-key/other.key'));
      expect(p.some((x) => x.includes('MERKLE_CHECKPOINT_KEY_FILE=/etc/merklesync/signer-key/other.key is not a file'))).toBe(true);
    });

    it('a wrong entry point, a second merkle writer, a file the kustomization forgets', () => {
      let t = mutate(tree, 'deploy/base/prover.yaml', 'dist/apps/prover/main.js', 'dist/apps/prover/index.js');
      t = mutate(t, 'deploy/overlays/prod/patches/scaling.yaml', 'name: gateway\nspec:\n  replicas: 3', 'name: merkle\nspec:\n  replicas: 2\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: gateway\nspec:\n  replicas: 3');
      t = mutate(t, 'deploy/base/kustomization.yaml', '  - merkle.yaml\n', '');
      const p = allProblems(t);
      expect(p).toContain('deploy/overlays/dev: Deployment prover: command must be node dist/apps/prover/main.js, got ["node","dist/apps/prover/index.js"]');
      expect(p).toContain('deploy/overlays/prod: merkle must have exactly 1 replica');
      expect(p).toContain('deploy/base/kustomization.yaml: does not list deploy/base/merkle.yaml');
    });

    it('tracing: a misspelt OTEL variable, a wrong service name, an endpoint no Service exposes, the component left out', () => {
      let t = mutate(tree, 'deploy/base/config/prover.env', 'OTEL_SERVICE_NAME=prover', 'OTEL_SERVICE_NAME=prover\nOTEL_EXPORTER_OTLP_ENDPIONT=http://jaeger:4318');
      t = mutate(t, 'deploy/base/config/gateway.env', 'OTEL_SERVICE_NAME=gateway', 'OTEL_SERVICE_NAME=gw');
      t = mutate(t, 'deploy/observability/kustomization.yaml', '- OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:4318\n  - name: merkle-config', '- OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:14268\n  - name: merkle-config');
      t = mutate(t, 'deploy/overlays/dev/kustomization.yaml', 'components:\n  - ../../observability\n', '');
      const p = allProblems(t);
      expect(p).toContain('deploy/overlays/prod: Deployment prover: sets OTEL_EXPORTER_OTLP_ENDPIONT, which apps/prover/src/config.ts does not read');
      expect(p).toContain('deploy/overlays/prod: Deployment gateway: OTEL_SERVICE_NAME must be gateway (its name in traces), got gw');
      expect(p).toContain('deploy/overlays/prod: Deployment ingest: OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:14268, but no Service jaeger exposes port 14268');
      expect(p).toContain('deploy/overlays/dev: Deployment merkle: does not set OTEL_EXPORTER_OTLP_ENDPOINT (no traces would be exported)');
      // OTEL_* is allowed only because main.ts starts telemetry.
      const off = allProblems(mutate(tree, 'apps/merkle/src/main.ts', /startTelemetry\(/g, 'startTracing('));
      expect(off).toContain('deploy/overlays/dev: Deployment merkle: sets OTEL_SERVICE_NAME, which apps/merkle/src/config.ts does not read');
      });

    it('the master key mounted by the gateway instead of the proxy, and diverging proxy/replay streams', () => {
      const t = mutate(tree, 'deploy/base/gateway.yaml', '      volumes:\n        - name: tmp', '      volumes:\n        - name: stolen\n          secret:\n            secretName: proxy-master-key\n        - name: tmp');
      expect(allProblems(t)).toContain('deploy/overlays/dev: Deployment gateway: mounts proxy-master-key, which only proxy may hold');
      const u = mutate(tree, 'deploy/base/config/replay.env', 'REPLAY_COMMITMENTS_STREAM=MS_PROXY_COMMITMENTS', 'REPLAY_COMMITMENTS_STREAM=OTHER');
      expect(allProblems(u).join('\n')).toMatch(/proxy\/replay commitments streams differ/);
    });

    it('diverging hash suites', () => {
      const p = allProblems(mutate(tree, 'deploy/base/config/gateway.env', 'GATEWAY_HASH_SUITE=sha256', 'GATEWAY_HASH_SUITE=blake3'));
      expect(p.some((x) => x.startsWith('deploy/overlays/dev: hash suites differ'))).toBe(true);
    });
  });
});
