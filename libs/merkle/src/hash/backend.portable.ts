// Browser / non-Node build of '#hash-backend': the WebAssembly suites only.
export { portableSuites as suites } from './portable.ts';
