// What a handler sees of the message beyond its payload: delivery metadata and the ack-progress controls.
// It is also the Nest RPC context (`@Ctx() ctx: JetStreamContext`).
import { BaseRpcContext } from '@nestjs/microservices';
import type { JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';

/**
 * The context of one delivery. Acknowledging is the runner's job; the handler only reports progress.
 * @example
 * @EventPattern('ms.changes.>')
 * async apply(@Payload() data: Uint8Array, @Ctx() ctx: JetStreamContext) { ctx.keepWorking(); await longWork(data) }
 */
export class JetStreamContext extends BaseRpcContext<[JsMsg]> {
  private readonly progressIntervalMs: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private settled = false;

  constructor(msg: JsMsg, progressIntervalMs: number) {
    super([msg]);
    this.progressIntervalMs = progressIntervalMs;
  }

  /** The raw JetStream message (do not ack/nak/term it yourself: the runner does). */
  getMessage(): JsMsg {
    return this.args[0];
  }

  getSubject(): string {
    return this.args[0].subject;
  }

  getHeaders(): MsgHdrs | undefined {
    return this.args[0].headers;
  }

  /** 1 for the first delivery. */
  getDeliveryCount(): number {
    return this.args[0].info.deliveryCount;
  }

  getStreamSequence(): number {
    return this.args[0].info.streamSequence;
  }

  getStream(): string {
    return this.args[0].info.stream;
  }

  getConsumer(): string {
    return this.args[0].info.consumer;
  }

  /** Resets the ack-wait timer once ("still working on it"), so the message is not redelivered meanwhile. */
  working(): void {
    if (!this.settled) this.args[0].working();
  }

  /**
   * Resets the ack-wait timer now and then every `progressIntervalMs` (a third of the ack wait by default)
   * until the handler settles. Use for work that may outlast the ack wait.
   */
  keepWorking(): void {
    if (this.settled || this.timer !== undefined) return;
    this.working();
    this.timer = setInterval(() => this.working(), this.progressIntervalMs);
    this.timer.unref();
  }

  /** Called by the runner when the handler settled: progress stops. */
  _settle(): void {
    this.settled = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
