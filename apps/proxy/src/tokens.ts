/** Injection tokens of the proxy. */
export const PROXY_CONFIG = Symbol('PROXY_CONFIG');
export const KEY_PROVIDER = Symbol('KEY_PROVIDER');
