/**
 * Fleet tokens from the environment and from a Secrets Manager secret, read through Powertools
 * parameters. There is no local Secrets Manager, so a small HTTP server on 127.0.0.1 answers the
 * one call the SDK makes (GetSecretValue, JSON protocol): the real client, serializer and cache run.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentFleetTokens, splitTokens } from '../../functions/adapters/fleet-tokens';
import { DependencyError } from '../../functions/core/errors';

const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:FleetTokens-abc123';
let server: http.Server;
let secret: string | undefined = 'fleet-one-0123456789abcdef, fleet-two-0123456789abcdef';
let calls = 0;

let savedEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      calls += 1;
      const target = req.headers['x-amz-target'];
      const { SecretId } = JSON.parse(body || '{}') as { SecretId?: string };
      if (target !== 'secretsmanager.GetSecretValue' || SecretId !== ARN || secret === undefined) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'Secrets Manager can not find the specified secret.' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify({ ARN, Name: 'FleetTokens', SecretString: secret, VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: 1 }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  // Restored in afterAll: unit test files share a process (vitest isolate: false).
  savedEnv = { ...process.env };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
});

afterAll(async () => {
  process.env = savedEnv;
  await new Promise((r) => server.close(r));
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
    secret = 'fleet-three-0123456789abcdef';
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
