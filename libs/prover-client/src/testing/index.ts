// Test tooling of @merklesync/prover-client (import from '@merklesync/prover-client/testing'; never in production code).
export { startProverStub, type ProverStub, type StubHandler, type StubReply } from './stub-responder.ts';
