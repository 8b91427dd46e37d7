// Child process of browser-compat.spec.ts (run with --experimental-vm-modules): evaluates an ES-module bundle
// in a fresh V8 context that has only web-platform globals — no process, Buffer, require or node: modules —
// then prints what its run() returns. Any Node-only dependency in the bundle fails here.
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const code = readFileSync(process.argv[2], 'utf8');
const context = vm.createContext({
  console,
  crypto: globalThis.crypto,
  URL,
  atob,
  btoa,
  WebAssembly,
  queueMicrotask,
  setTimeout,
  clearTimeout,
  structuredClone,
});
// A browser's TextEncoder returns arrays of the page's own realm; Node's would return host-realm arrays, which
// `instanceof Uint8Array` inside the sandbox rejects. So the sandbox gets an in-realm UTF-8 codec.
vm.runInContext(
  `
  globalThis.TextEncoder = class TextEncoder {
    get encoding() { return 'utf-8'; }
    encode(s = '') {
      const out = [];
      for (const ch of String(s)) {
        let c = ch.codePointAt(0);
        if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
        if (c < 0x80) out.push(c);
        else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
        else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
        else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      }
      return new Uint8Array(out);
    }
  };
  globalThis.TextDecoder = class TextDecoder {
    constructor(label = 'utf-8', options = {}) { this.fatal = !!options.fatal; }
    get encoding() { return 'utf-8'; }
    decode(bytes = new Uint8Array()) {
      const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes.buffer ?? bytes, bytes.byteOffset ?? 0, bytes.byteLength);
      let s = '';
      for (let i = 0; i < b.length; ) {
        const x = b[i];
        const n = x < 0x80 ? 1 : x >= 0xf0 ? 4 : x >= 0xe0 ? 3 : x >= 0xc0 ? 2 : 0;
        let c = n === 1 ? x : n === 2 ? x & 31 : n === 3 ? x & 15 : x & 7;
        let ok = n > 0 && i + n <= b.length;
        for (let k = 1; ok && k < n; k++) { if ((b[i + k] & 0xc0) !== 0x80) ok = false; else c = (c << 6) | (b[i + k] & 63); }
        if (ok && ((n === 2 && c < 0x80) || (n === 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) || (n === 4 && (c < 0x10000 || c > 0x10ffff)))) ok = false;
        if (!ok) { if (this.fatal) throw new TypeError('The encoded data was not valid for encoding utf-8'); s += '\ufffd'; i += 1; continue; }
        s += String.fromCodePoint(c);
        i += n;
      }
      return s;
    }
  };
`,
  context,
);
const mod = new vm.SourceTextModule(code, { context, identifier: 'bundle.mjs' });
await mod.link((specifier) => {
  throw new Error(`the browser bundle still imports ${specifier}`);
});
await mod.evaluate();
const run = mod.namespace.run;
process.stdout.write(String(await run()));
