/**
 * Fleet tokens from the environment and from a Secrets Manager secret, read through Powertools
 * parameters, against the runtime's local Secrets Manager (GetSecretValue over the JSON protocol):
 * the real client, serializer and cache run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentFleetTokens, splitTokens } from '../../functions/adapters/fleet-tokens';
import { DependencyError } from '@optiinfra/contract';
import { type LocalSecret, type SecretsManagerStandIn, startSecretsManager } from '../../local/stand-ins/secrets-manager';

const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:FleetTokens-abc123';
const secret: LocalSecret = { arn: ARN, name: 'FleetTokens', value: 'fleet-one-0123456789abcdef, fleet-two-0123456789abcdef' };
let server: SecretsManagerStandIn;
let calls = 0;

let savedEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  // The stand-in reads the value at each call: a proxy counts the reads.
  server = await startSecretsManager([
    new Proxy(secret, {
      get: (target, key: keyof LocalSecret) => {
        if (key === 'value') calls += 1;
        return target[key];
      },
    }),
  ]);
  // Restored in afterAll: unit test files share a process (vitest isolate: false).
  savedEnv = { ...process.env };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: server.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
});

afterAll(async () => {
  process.env = savedEnv;
  await server.stop();
});

describe('fleet tokens', () => {
  it('splits a comma-separated list, trimming and dropping empty entries', () => {
    expect(splitTokens(' a ,b,, c ')).toEqual(['a', 'b', 'c']);
    expect(splitTokens('')).toEqual([]);
  });

  it('without a secret: only the environment tokens, and no call', async () => {
    expect(await currentFleetTokens(['env-token-0123456789abcdef'], undefined)).toEqual(['env-token-0123456789abcdef']);
    expect(calls).toBe(0);
  });

  it('with a secret: the environment tokens and the secret tokens, the secret cached for a minute', async () => {
    expect(await currentFleetTokens([], ARN)).toEqual(['fleet-one-0123456789abcdef', 'fleet-two-0123456789abcdef']);
    secret.value = 'fleet-three-0123456789abcdef';
    expect(await currentFleetTokens(['env-token-0123456789abcdef'], ARN)).toEqual([
      'env-token-0123456789abcdef',
      'fleet-one-0123456789abcdef',
      'fleet-two-0123456789abcdef',
    ]);
    expect(calls).toBe(1);
  });

  it('says clearly that nobody can register when the secret cannot be read (503, not a 500)', async () => {
    const missing = `${ARN}-missing`;
    const err = await currentFleetTokens([], missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyError);
    expect((err as DependencyError).status).toBe(503);
    expect((err as Error).message).toContain('the fleet tokens could not be read, so no agent can register now');
  });
});
