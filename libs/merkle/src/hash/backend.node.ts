// Node build of '#hash-backend'. A native accelerator is wired in here when it is available.
export { portableSuites as suites } from './portable.ts';
