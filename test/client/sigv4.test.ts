import { createClient } from '@optiinfra/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { botocoreSignature } from './botocore-signature';
import { type RecordedRequest, type RecordingServer, startRecordingServer } from './recording-server';

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token-1',
};

function botocore(server: RecordingServer, request: RecordedRequest, secret = CREDENTIALS.secretAccessKey) {
  return botocoreSignature(server.url, request, { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: secret });
}

let server: RecordingServer;
beforeEach(async () => {
  server = await startRecordingServer(() => ({ status: 201, body: { task_id: 't', status: 'pending' } }));
});
afterEach(async () => {
  await server.close();
});

describe('SigV4 signing', () => {
  it('signs a submit (body, query-less path, session token) as botocore does, for execute-api in the given region', async () => {
    const client = createClient({
      apiUrl: server.url,
      sigv4: true,
      region: 'eu-west-1',
      credentials: CREDENTIALS,
      token: 'ignored-when-signing',
    });
    await client.submit(
      { task_type: 'analyze_cost', agent_type: 'cost', parameters: { account_id: '123', note: 'a b/ü' } },
      { idempotencyKey: 'k-1' },
    );
    const [request] = server.requests;
    const check = botocore(server, request!);
    expect(check).toMatchObject({ region: 'eu-west-1', service: 'execute-api' });
    expect(check.signed).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'x-amz-security-token', 'content-type', 'idempotency-key']));
    expect(check.signature).toBe(check.given);
    expect(request!.headers['x-amz-security-token']).toBe('session-token-1');
    expect(request!.headers.authorization).not.toContain('Bearer');
  });

  it('signs the query of a list and a long poll', async () => {
    const client = createClient({
      apiUrl: server.url,
      sigv4: true,
      region: 'us-east-1',
      credentials: async () => CREDENTIALS,
      maxRetries: 0,
    });
    server.reply({ status: 200, body: { tasks: [], count: 0 } }, { status: 200, body: { task_id: 't', status: 'completed' } });
    for await (const page of client.list({ status: 'failed', agent_type: 'cost', limit: 5 })) expect(page.count).toBe(0);
    await client.wait('t', { pollSeconds: 7 });
    for (const request of server.requests) {
      const check = botocore(server, request);
      expect(check.signature).toBe(check.given);
    }
    expect(server.requests.map((r) => r.url)).toEqual(['/tasks?status=failed&agent_type=cost&limit=5', '/tasks/t?wait=7']);
  });

  it('is a signature botocore refuses with another secret (the check can fail)', async () => {
    await createClient({ apiUrl: server.url, sigv4: true, region: 'eu-west-1', credentials: CREDENTIALS }).submit({
      task_type: 'a',
      agent_type: 'b',
    });
    const check = botocore(server, server.requests[0]!, 'another-secret');
    expect(check.signature).not.toBe(check.given);
  });
});
