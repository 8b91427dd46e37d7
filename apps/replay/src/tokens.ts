/** Injection tokens of the replay service. */
export const REPLAY_CONFIG = Symbol('REPLAY_CONFIG');
export const KEY_PROVIDER = Symbol('KEY_PROVIDER');
export const RESULTS_STORE = Symbol('RESULTS_STORE');
