// Public API of @merklesync/config: the pieces the services' config loaders share (apps/<app>/src/config.ts).
export { ConfigError, envReader, type Env, type EnvReader } from './env.ts';
