/** The replay results store (`@merklesync/verification-store` VerificationStore) on the gateway's pool. */
export const VERIFICATIONS = Symbol('VERIFICATIONS');
