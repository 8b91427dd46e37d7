// Public API of @merklesync/verification-store.
export { DEFAULT_VERIFICATIONS_SCHEMA, VerificationStore, VerificationStoreError, VerificationStoreErrorCode, type ResultPage } from './store.ts';
