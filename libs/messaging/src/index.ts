export { NATS_CONNECTION_CONFIG, NatsConnectionProvider } from './connection.ts';
export { validateConnectionConfig, type NatsConnectionConfig } from './config.ts';
export {
  HandlerErrorCode,
  MalformedPayloadError,
  MessagingError,
  MessagingErrorCode,
  NoHandlerError,
  RetryableError,
  TerminalError,
} from './errors.ts';
export { StreamDefaults, streamConfigOf, streamDefinitionFor, type StreamDefinition } from './provisioning/stream-definition.ts';
export { ConsumerDefaults, consumerConfigOf, type ConsumerDefinition } from './provisioning/consumer-definition.ts';
export {
  ensureConsumer,
  ensureStream,
  provision,
  type ConsumerProvisionResult,
  type ProvisionAction,
  type StreamProvisionResult,
} from './provisioning/provisioner.ts';
export {
  BatchPublishError,
  JetStreamPublisher,
  type BatchMessage,
  type BatchPublishOptions,
  type JetStreamClientSource,
  type PublishAck,
  type PublishOptions,
} from './publish/publisher.ts';
export { natsHeadersGetter, natsHeadersSetter } from './tracing/headers-carrier.ts';
export { parseTraceparent, W3CTraceContextPropagator } from './tracing/w3c-propagator.ts';
export { JetStreamContext } from './consume/context.ts';
export { classifyError, decide, DEFAULT_BACKOFF_MS, type Disposition, type Failure } from './consume/disposition.ts';
export { DeadLetterHeaders, deadLetterHeaders, deadLetterMsgId } from './consume/dead-letter.ts';
export { ConsumerRunner, type ConsumerRunnerOptions, type ConsumerRunnerStats, type JetStreamMessageHandler } from './consume/runner.ts';
export { JETSTREAM_TRANSPORT, JetStreamServer, type JetStreamServerOptions, type JetStreamServerStatus } from './nest/server.ts';
export { JetStreamErrorPassthroughFilter } from './nest/passthrough-filter.ts';
export { routeSubject, subjectMatches } from './nest/subject-match.ts';
export { MESSAGING_PROVISION, MessagingModule, type MessagingModuleOptions } from './nest/module.ts';
