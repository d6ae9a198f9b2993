/**
 * `optiinfra console --stack` as a user runs it: a process of its own (from the sources) that reads
 * the stack's ApiUrl from a CloudFormation stand-in, serves the page on 127.0.0.1, forwards the
 * page's calls to a recording "API Gateway" signed with SigV4 (recomputed by botocore), and answers
 * GET /ui/metrics from a CloudWatch stand-in. The AWS keys are the environment's; the page gets none.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE, type Proc, startProcess } from '../../harness/processes';
import { waitUntil } from '../../harness/wait';
import { listen } from '../../local/stand-ins/listen';
import { startConsoleProxy } from '../../packages/cli/src/console-proxy';
import { botocoreSignature } from '../client/botocore-signature';
import { type RecordingServer, startRecordingServer } from '../client/recording-server';
import { startCloudFormation, startCloudWatch } from '../support/aws-stand-ins';

const STACK = 'OptiInfraOrchestrator-test-Stateless';
const KEYS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'console-secret-key' };
const SUBMITTED = "SUM(SEARCH('{OptiInfra/Orchestrator,AgentType,service} MetricName=\"TasksSubmitted\"', 'Sum', 60))";

let api: RecordingServer;
let cfn: Awaited<ReturnType<typeof startCloudFormation>>;
let cloudwatch: Awaited<ReturnType<typeof startCloudWatch>>;
let cli: Proc;
let consoleUrl: string;

beforeAll(async () => {
  api = await startRecordingServer((req) =>
    req.method === 'POST' ? { status: 201, body: { task_id: 't-1', status: 'pending' } } : { status: 200, body: { agents: [], count: 0 } },
  );
  // The stage path of the ApiUrl output is kept in front of every forwarded path.
  cfn = await startCloudFormation(STACK, `${api.url}/prod/`);
  cloudwatch = await startCloudWatch((request) => {
    // Times travel as epoch seconds.
    if ((Number(request.EndTime) - Number(request.StartTime)) / 60 === 5)
      return {
        error: 'AccessDenied',
        message: 'User: arn:aws:iam::123456789012:user/dev is not authorized to perform: cloudwatch:GetMetricData',
      };
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
    return [
      { id: 'submitted', points: [[minute, 7]] },
      { id: 'dispatch_latency_p99', points: [[minute, 912.5]] },
    ];
  });
  cli = startProcess(
    NODE,
    ['--disable-warning=ExperimentalWarning', '--import', 'tsx', 'packages/cli/src/cli.ts', 'console', '--stack', STACK, '--port', '0'],
    {
      AWS_ENDPOINT_URL_CLOUDFORMATION: cfn.url,
      AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.url,
      AWS_ACCESS_KEY_ID: KEYS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: KEYS.secretAccessKey,
      AWS_REGION: 'eu-west-1',
    },
  );
  await cli.waitFor(/Ctrl-C stops it\./, 60_000);
  const [, url] = /Console (http:\/\/127\.0\.0\.1:\d+)\/ui\/ -> /.exec(cli.output()) ?? [];
  consoleUrl = url!;
}, 90_000);

afterAll(async () => {
  await cli?.stop('SIGINT');
  await Promise.all([api?.close(), cfn?.close(), cloudwatch?.close()]);
});

const call = (path: string, init: RequestInit = {}) => fetch(`${consoleUrl}${path}`, { redirect: 'manual', ...init });

describe('optiinfra console --stack', () => {
  it('says where it serves, which API it forwards to and how it signs', () => {
    expect(cli.output()).toContain(`Console ${consoleUrl}/ui/ -> ${api.url}/prod/ (signed with SigV4 (eu-west-1))`);
    expect(cli.output()).toContain('Metrics from CloudWatch in eu-west-1. Ctrl-C stops it.');
    expect(new URLSearchParams(cfn.requests[0]).get('Action')).toBe('DescribeStacks');
  });

  it('serves the page itself, with the page security headers', async () => {
    const page = await call('/ui/');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="app.js"></script>');
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    // An idle connection is kept longer than clients keep theirs: none sends on one being closed.
    expect(page.headers.get('keep-alive')).toBe('timeout=65');
    expect((await call('/ui/app.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it("signs the page's calls with SigV4 under the stage path, dropping the page's own credentials and cookies", async () => {
    const before = api.requests.length;
    const list = await call('/agents?limit=100', { headers: { authorization: 'Bearer page-token', cookie: 'session=1' } });
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ agents: [], count: 0 });
    const body = JSON.stringify({ task_type: 'analyze_cost', agent_type: 'cost', parameters: { account_id: '123' } });
    const submit = await call('/tasks', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k-42', origin: consoleUrl },
    });
    expect([submit.status, await submit.json()]).toEqual([201, { task_id: 't-1', status: 'pending' }]);
    const [get, post] = api.requests.slice(before);
    expect(get).toMatchObject({ method: 'GET', url: '/prod/agents?limit=100' });
    expect(post).toMatchObject({ method: 'POST', url: '/prod/tasks', body });
    for (const request of [get!, post!]) {
      expect(request.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, /,
      );
      expect(request.headers.cookie).toBeUndefined();
      const check = botocoreSignature(api.url, request, KEYS);
      expect(check.signature).toBe(check.given);
    }
    expect(botocoreSignature(api.url, post!, KEYS).signed).toEqual(expect.arrayContaining(['content-type', 'idempotency-key', 'host']));
  });

  it('forwards only the calls the page makes, and none from another site or host name', async () => {
    const before = api.requests.length;
    const register = await call('/agents/register', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(register.status).toBe(404);
    expect(((await register.json()) as { error: string }).error).toMatch(
      /^optiinfra console forwards only the page's calls \(GET \/health, /,
    );
    const csrf = await call('/tasks', {
      method: 'POST',
      body: '{}',
      headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
    });
    expect(csrf.status).toBe(403);
    expect(((await csrf.json()) as { error: string }).error).toBe(
      `a page of "http://evil.example" may not call the console's API: open ${consoleUrl}/ui/`,
    );
    const crossSite = await call('/agents', { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    // A DNS-rebinding page reaches 127.0.0.1 under its own host name (fetch will not set Host: node:http does).
    const rebound = await new Promise<number | undefined>((resolve, reject) =>
      http
        .get(`${consoleUrl}/agents`, { headers: { host: 'evil.example' } }, (res) => resolve(res.resume().statusCode))
        .on('error', reject),
    );
    expect(rebound).toBe(403);
    expect(api.requests.length).toBe(before);
  });

  it("answers GET /ui/metrics from CloudWatch with the dashboard's expressions, read once per window and half minute", async () => {
    const before = cloudwatch.requests.length;
    const res = await call('/ui/metrics?minutes=15');
    expect(res.status).toBe(200);
    const metrics = (await res.json()) as {
      source: string;
      minutes: number;
      series: Array<{ id: string; points: unknown[]; total?: number }>;
    };
    expect(metrics).toMatchObject({ source: 'cloudwatch', minutes: 15 });
    expect(metrics.series.find((s) => s.id === 'submitted')).toMatchObject({ total: 7, points: [{ v: 7 }] });
    expect(metrics.series.find((s) => s.id === 'dispatch_latency_p99')).toMatchObject({ points: [{ v: 912.5 }] });
    const { body } = cloudwatch.requests[before]!;
    const queries = body.MetricDataQueries as Array<{ Id: string; Expression: string; Period: number }>;
    expect(queries).toHaveLength(9);
    expect(queries[0]).toMatchObject({ Id: 'submitted', Expression: SUBMITTED, Period: 60 });
    expect((await call('/ui/metrics?minutes=15')).status).toBe(200);
    expect(cloudwatch.requests.length).toBe(before + 1);
    const bad = await call('/ui/metrics?minutes=999');
    expect(bad.status).toBe(400);
  });

  it('says which permission is missing when CloudWatch refuses', async () => {
    const res = await call('/ui/metrics?minutes=5');
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({
      code: 'metrics_unavailable',
      error: expect.stringMatching(/^CloudWatch refused GetMetricData in eu-west-1: allow cloudwatch:GetMetricData to the credentials/),
    });
    expect(cli.output()).toContain('optiinfra console: CloudWatch refused GetMetricData in eu-west-1');
  });

  it('stops on Ctrl-C with exit code 0', async () => {
    const code = await cli.stop('SIGINT');
    expect(code).toBe(0);
  });
});

describe('the console proxy (in-process), against an API that hangs or is gone', () => {
  it('ends the call to the API when the page stops waiting, and says so when the API cannot be reached', async () => {
    const arrived: string[] = [];
    const closed: string[] = [];
    const hanging = http.createServer((req) => {
      arrived.push(req.url ?? '');
      req.once('close', () => closed.push(req.url ?? ''));
    });
    const port = await listen(hanging);
    const warnings: string[] = [];
    const proxy = await startConsoleProxy({
      apiUrl: new URL(`http://127.0.0.1:${port}`),
      assets: new Map(),
      port: 0,
      warn: (l) => warnings.push(l),
    });
    try {
      const leaving = new AbortController();
      const waiting = fetch(`${proxy.url}/tasks/t-1?wait=20`, { signal: leaving.signal }).catch((err: unknown) => err);
      await waitUntil(
        'the API got the long poll',
        () => arrived,
        (a) => a.length === 1,
        { timeoutMs: 5_000 },
      );
      expect(closed).toEqual([]);
      leaving.abort();
      expect(await waiting).toBeInstanceOf(Error);
      await waitUntil(
        'the API saw its call end',
        () => closed,
        (c) => c.includes('/tasks/t-1?wait=20'),
        { timeoutMs: 5_000 },
      );
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
      const gone = await fetch(`${proxy.url}/agents`);
      expect(gone.status).toBe(502);
      expect(((await gone.json()) as { error: string }).error).toBe(
        `could not reach the API at http://127.0.0.1:${port} (ECONNREFUSED); is it running, and is the URL right?`,
      );
      expect(warnings).toHaveLength(1);
    } finally {
      await proxy.stop();
    }
  });
});
