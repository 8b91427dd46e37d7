// Device identity (Ed25519) and the challenge–response handshake. Formats: libs/crypto/README.md part C.
export { deviceIdOf, deviceIdentityFromSeed, generateDeviceIdentity, type DeviceIdentity } from './identity.ts';
export {
  HandshakeServer,
  respondToChallenge,
  type AuthenticatedDevice,
  type HandshakeServerOptions,
  type RespondOptions,
} from './handshake.ts';
export {
  HANDSHAKE_RESPONSE_BYTES,
  MAX_AUDIENCE_BYTES,
  decodeChallenge,
  decodeResponse,
  encodeChallenge,
  encodeResponse,
  type HandshakeChallenge,
  type HandshakeResponse,
} from './messages.ts';
export { MemoryChallengeStore, type ChallengeRecord, type ChallengeStore } from './store.ts';
export { HANDSHAKE_CONTEXT, handshakeTranscript, type HandshakeRole, type TranscriptFields } from './transcript.ts';
