/** Why the proxy refused a connection or could not capture. */
export const ProxyErrorCode = {
  /** A client message broke the protocol (bad length, unknown type, truncated body). */
  ProtocolViolation: 'PROTOCOL_VIOLATION',
  /** The backend cannot be reached. */
  BackendUnavailable: 'BACKEND_UNAVAILABLE',
  /** Too many client connections. */
  TooManyConnections: 'TOO_MANY_CONNECTIONS',
  /** A capture query failed in the backend. */
  CaptureQueryFailed: 'CAPTURE_QUERY_FAILED',
  /** A record could not be built or published. */
  RecordFailed: 'RECORD_FAILED',
  /** Key material missing or unusable. */
  KeyMaterial: 'KEY_MATERIAL',
} as const;
export type ProxyErrorCode = (typeof ProxyErrorCode)[keyof typeof ProxyErrorCode];

/** A typed proxy failure. */
export class ProxyError extends Error {
  readonly code: ProxyErrorCode;
  constructor(code: ProxyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProxyError';
    this.code = code;
  }
}

/** SQLSTATE the client sees for each code (PostgreSQL's own classes). */
export function sqlstateOf(code: ProxyErrorCode): string {
  switch (code) {
    case ProxyErrorCode.ProtocolViolation:
      return '08P01';
    case ProxyErrorCode.BackendUnavailable:
      return '08006';
    case ProxyErrorCode.TooManyConnections:
      return '53300';
    case ProxyErrorCode.CaptureQueryFailed:
    case ProxyErrorCode.RecordFailed:
    case ProxyErrorCode.KeyMaterial:
      return 'XX000';
  }
}
