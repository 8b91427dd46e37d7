// Test support for services and libraries built on this transport (not part of the runtime API).
export { installTracing } from './otel.ts';
