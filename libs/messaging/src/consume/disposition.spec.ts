import { describe, expect, it } from 'vitest';
import { ProtocolError, ProtocolErrorCode } from '@merklesync/protocol';
import { HandlerErrorCode, MalformedPayloadError, MessagingError, MessagingErrorCode, NoHandlerError, RetryableError, TerminalError } from '../errors.ts';
import { classifyError, decide, DEFAULT_BACKOFF_MS } from './disposition.ts';

describe('classifyError', () => {
  it('keeps the code of handler errors', () => {
    expect(classifyError(new RetryableError('db down'))).toEqual({ code: 'RETRYABLE', message: 'db down' });
    expect(classifyError(new RetryableError('db down', { retryAfterMs: 7 })).retryAfterMs).toBe(7);
    expect(classifyError(new TerminalError('no')).code).toBe('TERMINAL');
    expect(classifyError(new MalformedPayloadError('bad')).code).toBe('MALFORMED_PAYLOAD');
    expect(classifyError(new NoHandlerError('a.b')).code).toBe('NO_HANDLER');
  });

  it('treats a ProtocolError as a malformed payload, keeping its code and field', () => {
    const f = classifyError(new ProtocolError(ProtocolErrorCode.InvalidEvent, 'bad hash', { field: 'events[0].block.map_key' }));
    expect(f.code).toBe('MALFORMED_PAYLOAD');
    expect(f.message).toBe('INVALID_EVENT at events[0].block.map_key: bad hash');
  });

  it('maps MessagingErrors from the handler’s own I/O', () => {
    expect(classifyError(new MessagingError(MessagingErrorCode.PublishTimeout, 't')).code).toBe('RETRYABLE');
    expect(classifyError(new MessagingError(MessagingErrorCode.PublishRejected, 'r')).code).toBe('TERMINAL');
    expect(classifyError(new MessagingError(MessagingErrorCode.InvalidConfig, 'c')).code).toBe('UNKNOWN');
  });

  it('classifies everything else, including Nest’s substituted error object, as UNKNOWN', () => {
    expect(classifyError(new TypeError('x is undefined'))).toEqual({ code: 'UNKNOWN', message: 'TypeError: x is undefined' });
    expect(classifyError({ status: 'error', message: 'Internal server error' })).toEqual({ code: 'UNKNOWN', message: 'Internal server error' });
    expect(classifyError('boom')).toEqual({ code: 'UNKNOWN', message: 'boom' });
  });

  it('survives Nest’s default RPC exception filter with class and code intact', () => {
    const e = new TerminalError('no');
    expect(e.getError()).toBe(e);
  });
});

describe('decide', () => {
  const backoff = [100, 200, 400];
  const retry = { code: HandlerErrorCode.Retryable, message: 'x' } as const;

  it('acks a success', () => {
    expect(decide(undefined, 1, 5, backoff)).toEqual({ action: 'ack' });
  });

  it('naks retryable and unknown failures with the backoff of the delivery number, clamped to the last', () => {
    expect(decide(retry, 1, 10, backoff)).toMatchObject({ action: 'nak', delayMs: 100 });
    expect(decide(retry, 2, 10, backoff)).toMatchObject({ action: 'nak', delayMs: 200 });
    expect(decide(retry, 7, 10, backoff)).toMatchObject({ action: 'nak', delayMs: 400 });
    expect(decide({ code: 'UNKNOWN', message: 'x' }, 3, 10, backoff)).toMatchObject({ action: 'nak', delayMs: 400 });
    expect(decide({ ...retry, retryAfterMs: 5 }, 1, 10, backoff)).toMatchObject({ action: 'nak', delayMs: 5 });
    expect(decide(retry, 1, 10, [])).toMatchObject({ action: 'nak', delayMs: DEFAULT_BACKOFF_MS[0] });
  });

  it('dead-letters retryable and unknown failures on the last allowed delivery', () => {
    expect(decide(retry, 5, 5, backoff)).toMatchObject({ action: 'dead-letter', reason: 'max-deliver' });
    expect(decide({ code: 'UNKNOWN', message: 'x' }, 6, 5, backoff)).toMatchObject({ action: 'dead-letter', reason: 'max-deliver' });
    expect(decide(retry, 1000, -1, backoff)).toMatchObject({ action: 'nak' });
  });

  it('dead-letters terminal, malformed and unroutable messages at once', () => {
    for (const code of ['TERMINAL', 'MALFORMED_PAYLOAD', 'NO_HANDLER'] as const) {
      expect(decide({ code, message: 'x' }, 1, 5, backoff)).toMatchObject({ action: 'dead-letter', reason: 'terminal' });
    }
  });
});
