// The JetStream handler: translates the message (decoded by the transport) and delegates to ApplyService.
import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { JetStreamContext } from '@merklesync/messaging';
import type { ChangeBatch } from '@merklesync/protocol';
import { ApplyService } from '../apply/apply.service.ts';

/** Subject pattern of change batches under any prefix (the consumer's filter narrows it). */
export const CHANGES_PATTERN = '*.changes.>';

@Controller()
export class ChangesController {
  private readonly applier: ApplyService;

  constructor(@Inject(ApplyService) applier: ApplyService) {
    this.applier = applier;
  }

  @EventPattern<string>(CHANGES_PATTERN)
  async onChangeBatch(@Payload() batch: ChangeBatch, @Ctx() ctx: JetStreamContext): Promise<void> {
    ctx.keepWorking();
    await this.applier.apply(batch, ctx.getStreamSequence(), ctx.getSubject());
  }
}
