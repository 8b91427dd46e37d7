// Test support for services and libraries that export traces (not part of the runtime API).
export { decodeExportTraceRequest, OtlpSpanKind, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts';
