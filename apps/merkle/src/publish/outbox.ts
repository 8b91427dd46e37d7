// Root updates and checkpoints are published after the database commit. A publish failure must neither
// undo the commit nor block the pipeline, so failed messages wait here and go out before the next ones
// (their msgIds make a repeat harmless). The store stays the source of truth: a crash loses only
// notifications, never state or checkpoints.
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BatchMessage } from '@merklesync/messaging';
import { EVENT_PUBLISHER, type EventPublisher } from '../ports.ts';

const _MAX_PENDING = 100_000;

/**
 * Publishes in order, keeping what failed for the next attempt.
 * @example await outbox.send([{ subject, payload, msgId }])
 */
@Injectable()
export class EventOutbox {
  private readonly logger = new Logger('EventOutbox');
  private readonly publisher: EventPublisher;
  private pending: BatchMessage[] = [];
  /** Messages published successfully (for tests and metrics). */
  published = 0;

  constructor(@Inject(EVENT_PUBLISHER) publisher: EventPublisher) {
    this.publisher = publisher;
  }

  /** Messages waiting for a retry. */
  get backlog(): number {
    return this.pending.length;
  }

  /** Publishes the backlog, then `messages`; never throws (failures are logged and kept). */
  async send(messages: readonly BatchMessage[]): Promise<void> {
    this.pending.push(...messages);
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      await this.publisher.publishBatch(batch);
      this.published += batch.length;
    } catch (e) {
      const dropped = Math.max(0, batch.length - _MAX_PENDING);
      this.pending = batch.slice(dropped).concat(this.pending);
      this.logger.error(`publishing ${batch.length} events failed (kept for retry${dropped > 0 ? `, dropped ${dropped} oldest` : ''}): ${String(e)}`);
    }
  }
}
