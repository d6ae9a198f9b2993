/**
 * The Python snippet of docs/agent-protocol.md for checking a delivery's signature, run as written
 * against deliveries signed the way the dispatcher signs them: so an agent author copying it gets a
 * working check. (The file keeps its name from when the snippet was in the README.)
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../../harness/processes';

const doc = readFileSync(path.join(ROOT, 'docs/agent-protocol.md'), 'utf8');
const snippet = /```python\n(import base64[\s\S]*?def verify[\s\S]*?)```/.exec(doc)?.[1];
const dir = tempDir('readme-verify-');
afterAll(() => dir.remove());

const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

const checkFile = path.join(dir.dir, 'check.py');
writeFileSync(
  checkFile,
  `${snippet}\nimport json, sys\nc = json.load(sys.stdin)\nprint(verify(c["secret"], c["headers"], c["body"].encode()))\n`,
);

/** Runs the snippet in its own python3 process; the cases run at once, each with its own process. */
function runVerify(headers: Record<string, string>, body: string, key = secret): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [checkFile], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out.trim() === 'True') : reject(new Error(`python3 exited ${code}: ${err}`))));
    child.stdin.end(JSON.stringify({ secret: key, headers, body }));
  });
}

function signed(body: string, at = new Date(), id = 'f6d1a6a4-1111-4111-8111-111111111111:1'): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}

describe.concurrent("docs/agent-protocol.md's signature check in Python", () => {
  it('is in docs/agent-protocol.md', () => {
    expect(snippet).toContain('def verify');
  });

  const body = JSON.stringify({ task_id: 'f6d1a6a4-1111-4111-8111-111111111111', task_type: 'work', parameters: { n: 1 } });

  it('accepts a delivery signed as the dispatcher signs it', async () => {
    expect(await runVerify(signed(body), body)).toBe(true);
  });

  it.each([
    ['an altered body', signed(body), `${body} `],
    ['another webhook-id', { ...signed(body), 'webhook-id': 'f6d1a6a4-1111-4111-8111-111111111111:2' }, body],
    ['a stale timestamp (6 minutes old)', signed(body, new Date(Date.now() - 6 * 60_000)), body],
    ['a forged signature', { ...signed(body), 'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')}` }, body],
  ])('refuses %s', async (_label, headers, sent) => {
    expect(await runVerify(headers, sent)).toBe(false);
  });

  it('refuses a delivery signed with another secret', async () => {
    expect(await runVerify(signed(body), body, `whsec_${Buffer.alloc(32, 9).toString('base64')}`)).toBe(false);
  });
});
