// Replay's verdicts, read from the table replay writes (libs/verification-store). They hold roots, keyed map keys
// and leaf commitments only, never rows: the gateway sees no plaintext (README, "Trust model").
import { Inject, Injectable } from '@nestjs/common';
import { create } from '@bufbuild/protobuf';
import {
  GetVerificationResultResponseSchema,
  ListVerificationResultsResponseSchema,
  type GetVerificationResultResponse,
  type ListVerificationResultsResponse,
} from '@merklesync/protocol';
import { VerificationStoreError, type VerificationStore } from '@merklesync/verification-store';
import { GatewayError, GatewayErrorCode } from '../errors.ts';
import { VERIFICATIONS } from './tokens.ts';

const _enc = new TextEncoder();
/** undefined_table: replay has not created its table yet (nothing verified so far). */
const _NO_TABLE = '42P01';

@Injectable()
export class VerificationsService {
  private readonly store: VerificationStore;
  constructor(@Inject(VERIFICATIONS) store: VerificationStore) {
    this.store = store;
  }

  /** @throws GatewayError(INVALID_ARGUMENT | NOT_FOUND | UNAVAILABLE) */
  async get(transactionId: string): Promise<GetVerificationResultResponse> {
    const n = _enc.encode(transactionId).length;
    if (n === 0 || n > 256) throw new GatewayError(GatewayErrorCode.InvalidArgument, 'transaction_id must be 1..256 UTF-8 bytes');
    const result = await this.#read(() => this.store.get(transactionId), undefined);
    if (!result) throw new GatewayError(GatewayErrorCode.NotFound, `transaction ${transactionId} has not been verified (yet)`);
    return create(GetVerificationResultResponseSchema, { result });
  }

  /** @throws GatewayError(INVALID_ARGUMENT | UNAVAILABLE) */
  async list(pageSize: number, pageToken: string, failuresOnly: boolean): Promise<ListVerificationResultsResponse> {
    if (!Number.isSafeInteger(pageSize) || pageSize < 0 || pageSize > 1000) throw new GatewayError(GatewayErrorCode.InvalidArgument, 'page_size must be 0..1000');
    const page = await this.#read(() => this.store.list(pageSize === 0 ? 100 : pageSize, pageToken, failuresOnly), { results: [], nextPageToken: '' });
    return create(ListVerificationResultsResponseSchema, page);
  }

  async #read<T>(f: () => Promise<T>, absent: T): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (e instanceof VerificationStoreError) throw new GatewayError(GatewayErrorCode.InvalidArgument, e.message);
      if ((e as { code?: string }).code === _NO_TABLE) return absent;
      throw new GatewayError(GatewayErrorCode.Unavailable, 'verification results unavailable', { cause: e });
    }
  }
}
