// Counters of the proxy, served as Prometheus text on PROXY_METRICS_PORT (GET /metrics).
import { Injectable } from '@nestjs/common';

export type ProxyCounter =
  | 'connections_total'
  | 'connections_refused'
  | 'statements'
  | 'malformed'
  | 'nondeterministic_warnings'
  | 'capture_failed'
  | 'transactions_captured'
  | 'records_published'
  | 'records_failed';

@Injectable()
export class ProxyMetrics {
  readonly #counters = new Map<ProxyCounter, number>();
  activeConnections = 0;

  inc(name: ProxyCounter, by = 1): void {
    this.#counters.set(name, (this.#counters.get(name) ?? 0) + by);
  }

  get(name: ProxyCounter): number {
    return this.#counters.get(name) ?? 0;
  }

  /** Prometheus text exposition. */
  render(): string {
    const lines = ['# TYPE merklesync_proxy_active_connections gauge', `merklesync_proxy_active_connections ${this.activeConnections}`];
    for (const [k, v] of this.#counters) lines.push(`# TYPE merklesync_proxy_${k} counter`, `merklesync_proxy_${k} ${v}`);
    return `${lines.join('\n')}\n`;
  }
}
