/** The callback's pure rules (functions/core/task-callback.ts and the contract's URL rule): table-driven, no fakes. */
import { describe, expect, it } from 'vitest';
import { callbackUrlProblem, taskSubmitRequestSchema } from '@optiinfra/contract';
import {
  afterCallbackFailure,
  callbackTargetOf,
  callbackWebhookId,
  MAX_CALLBACK_DELAY_SECONDS,
  newCallbackSecret,
  readCallbackStatus,
} from '../../functions/core/task-callback';

const policy = { maxAttempts: 5, retryBaseSeconds: 10 };
const failure = { kind: 'failed', error: 'the callback URL answered HTTP 503', retryable: true } as const;

describe('callback URLs', () => {
  it.each([
    ['https://hooks.example.com/optiinfra?x=1', undefined],
    ['http://127.0.0.1:9000/cb', undefined],
    ['http://[::1]:9000/cb', undefined],
    ['ftp://hooks.example.com/', 'has the scheme "ftp"'],
    ['hooks.example.com/cb', 'is not an absolute URL'],
    ['https://user:secret@hooks.example.com/', 'carries a user or password (verify the signature instead)'],
    [`https://hooks.example.com/${'a'.repeat(2030)}`, 'is 2056 characters long'],
  ])('%s: %s', (url, problem) => {
    expect(callbackUrlProblem(url)).toBe(problem);
  });

  it('is optional on submit, and a bad one is refused with the rule and what is wrong', () => {
    const base = { task_type: 'analyze_cost', agent_type: 'cost' };
    expect(taskSubmitRequestSchema.safeParse(base).success).toBe(true);
    const bad = taskSubmitRequestSchema.safeParse({ ...base, callback_url: 'ftp://x' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toMatch(/^must be an http:\/\/ or https:\/\/ URL .*; it has the scheme "ftp"$/);
    expect(taskSubmitRequestSchema.safeParse({ ...base, callback_url: 42 }).error?.issues[0]?.message).toMatch(/^must be an http/);
  });

  it.each([
    ['https://hooks.example.com/a/b?c=d', { scheme: 'https', host: 'hooks.example.com', port: 443, path: '/a/b?c=d' }],
    ['http://hooks.example.com', { scheme: 'http', host: 'hooks.example.com', port: 80, path: '/' }],
    ['http://[::1]:8123/x', { scheme: 'http', host: '::1', port: 8123, path: '/x' }],
  ])('%s is called at %o', (url, target) => {
    expect(callbackTargetOf(url)).toEqual(target);
  });
});

describe('reading the receiver', () => {
  it.each([
    [200, 'delivered', undefined],
    [204, 'delivered', undefined],
    [500, 'failed', true],
    [503, 'failed', true],
    [408, 'failed', true],
    [429, 'failed', true],
    [400, 'failed', false],
    [404, 'failed', false],
    [301, 'failed', false],
  ])('HTTP %i is %s (retryable: %s)', (status, kind, retryable) => {
    const answer = readCallbackStatus(status);
    expect(answer.kind).toBe(kind);
    if (answer.kind === 'failed') expect(answer.retryable).toBe(retryable);
  });
});

describe('after a failed attempt', () => {
  it.each([
    // attempt, random, delay: the ceiling doubles from the base; half of it is fixed, half jittered.
    [1, 0, 5],
    [1, 1, 10],
    [2, 0, 10],
    [3, 0.5, 30],
    [4, 1, 80],
  ])('attempt %i with random %d waits %i s', (attempt, random, delay) => {
    expect(afterCallbackFailure(attempt, failure, policy, () => random)).toEqual({ retry: true, delaySeconds: delay });
  });

  it('never waits longer than one delayed message can', () => {
    const long = { maxAttempts: 20, retryBaseSeconds: 600 };
    expect(afterCallbackFailure(10, failure, long, () => 1)).toEqual({ retry: true, delaySeconds: MAX_CALLBACK_DELAY_SECONDS });
  });

  it('stops at the last attempt, and at once for an answer that would not change', () => {
    expect(afterCallbackFailure(5, failure, policy)).toEqual({ retry: false });
    expect(afterCallbackFailure(1, { ...failure, retryable: false }, policy)).toEqual({ retry: false });
  });
});

describe('signing', () => {
  it('gives each task its own Standard Webhooks secret, and the callback one id on every attempt', () => {
    const a = newCallbackSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(newCallbackSecret()).not.toBe(a);
    expect(callbackWebhookId('t-1')).toBe('t-1:callback');
  });
});
