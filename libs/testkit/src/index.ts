// Public API of @merklesync/testkit: helpers for the projects' tests (never imported by production code).
export { createTestDb, type TestDb, type TestDbOptions } from './pg.ts';
export { rng } from './rng.ts';
export { Abort, ROOT, ServiceProcess, freePort, sleep, waitFor } from './service-process.ts';
export { KAFKA, debeziumConnectorConfig, deleteConnector, kafkaAvailable, kafkaRequired, registerConnector, type ConnectorInstance } from './kafka.ts';
export { MONGO, mongoAvailable, mongoRequired } from './mongo.ts';
