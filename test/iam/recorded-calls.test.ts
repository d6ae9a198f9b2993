/**
 * Least privilege, checked against what really ran. Every local runtime of the integration project
 * recorded each distinct AWS call its functions made (the function's logical id, the IAM action, the
 * resource ARN), and each Lambda invoke of its state machines (local/aws-call-guard.ts). This project
 * runs after it (vitest groupOrder) and evaluates every recorded call against the caller's role
 * policies of the synthesized template, with a real IAM policy evaluator (@cloud-copilot/iam-simulate),
 * the queue's resource policy included. Then it lists the granted actions no run used: each must
 * have a reason below, so a grant added without a use fails here until it is used or explained.
 * The managed policies (logs, network interfaces) are the Lambda service's and are not evaluated.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { beforeAll, expect, it } from 'vitest';
import { ENTRY_METADATA_KEY } from '../../lib/entry-metadata';
import { RECORD_AWS_CALLS_ENV, type RecordedCall } from '../../local/aws-call-guard';
import { LOCAL_AWS } from '../../local/provision';
import { type CfnTemplate, recordsOf, resolveIntrinsics, scalar } from '../../local/template/cfn-template';
import { synthesizedTemplate } from '../../local/template/synthesize';
import { inlinePolicies, roleOf, targetOf } from '../../local/template/vpc-routes';

/**
 * Granted actions the integration runs do not use, and why each is granted anyway: by role (the
 * logical id without its hash) and action, or `*` for every role. Table actions are granted per
 * function (lib/constructs/task-tables.ts), so none is here for being shared.
 */
const UNUSED_BECAUSE: Readonly<Record<string, string>> = {
  '* xray:PutTraceSegments': 'active tracing: the X-Ray daemon of the Lambda or Step Functions service sends them (tracing is off locally)',
  '* xray:PutTelemetryRecords': 'active tracing, as xray:PutTraceSegments',
  '* xray:GetSamplingRules': 'Step Functions tracing reads the sampling rules',
  '* xray:GetSamplingTargets': 'Step Functions tracing reads the sampling targets',
  '* logs:CreateLogDelivery': 'Step Functions sets up the log delivery of the state machine (when it is deployed)',
  '* logs:GetLogDelivery': 'Step Functions log delivery, as logs:CreateLogDelivery',
  '* logs:UpdateLogDelivery': 'Step Functions log delivery, as logs:CreateLogDelivery',
  '* logs:DeleteLogDelivery': 'Step Functions log delivery, as logs:CreateLogDelivery',
  '* logs:ListLogDeliveries': 'Step Functions log delivery, as logs:CreateLogDelivery',
  '* logs:PutResourcePolicy': 'Step Functions log delivery, as logs:CreateLogDelivery',
  '* logs:DescribeResourcePolicies': 'Step Functions log delivery, as logs:CreateLogDelivery',
  '* logs:DescribeLogGroups': 'Step Functions log delivery, as logs:CreateLogDelivery',
  '* sqs:GetQueueAttributes': "CDK's grantSendMessages adds it; the code sends to the queue URL it is given",
  '* sqs:GetQueueUrl': "CDK's grantSendMessages and SqsEventSource add it; nothing looks the queue up by name",
  'StarterFunction sqs:ChangeMessageVisibility':
    'the SQS event source (the Lambda service) may return messages early; the local poller lets visibility lapse',
  'StarterFunction states:DescribeExecution': 'only when a task is driven again and its execution name is taken (after a restart)',
  'AgentsApiFunction secretsmanager:DescribeSecret': "CDK's Secret.grantRead adds it; Powertools reads only the value",
  'TasksApiFunction dynamodb:DeleteItem':
    'Powertools idempotency deletes the record of a submission that failed; a rebuilt offers summary left empty is deleted',
};

const roleName = (principal: string) => principal.replace(/[0-9A-F]{8}$/, '');
const reasonFor = (principal: string, action: string) =>
  UNUSED_BECAUSE[`${roleName(principal)} ${action}`] ?? UNUSED_BECAUSE[`* ${action}`];

const dir = process.env[RECORD_AWS_CALLS_ENV] ?? '';
let template: CfnTemplate;
let calls: RecordedCall[];

beforeAll(async () => {
  template = await synthesizedTemplate();
  const files = dir && existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jsonl')) : [];
  const lines = new Set(files.flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean)));
  calls = [...lines].map((l) => JSON.parse(l) as RecordedCall);
  if (calls.length === 0)
    throw new Error(`no AWS calls recorded in "${dir}": this project evaluates what the integration project records; run npm test`);
});

/** The role's inline policies, resolved as the local runtime names its resources. */
function identityPolicies(principal: string): Simulation['identityPolicies'] {
  return inlinePolicies(template, roleOf(template, principal)).map(({ name, document }) => ({
    name,
    policy: resolveIntrinsics(document, template, LOCAL_AWS) as Simulation['identityPolicies'][number]['policy'],
  }));
}

/** The queue policy of an SQS queue (local queues are named by logical id), as its resource policy. */
function resourcePolicy(resource: string): Simulation['resourcePolicy'] {
  if (!resource.startsWith('arn:aws:sqs:')) return undefined;
  const queue = resource.split(':').pop();
  const policy = Object.values(template.Resources).find(
    (r) => r.Type === 'AWS::SQS::QueuePolicy' && recordsOf(r.Properties?.Queues).some((q) => targetOf(q, template) === queue),
  );
  return policy ? (resolveIntrinsics(policy.Properties?.PolicyDocument, template, LOCAL_AWS) as Simulation['resourcePolicy']) : undefined;
}

async function decision(call: RecordedCall): Promise<string> {
  const principal = `arn:aws:iam::${LOCAL_AWS.account}:role/${roleOf(template, call.principal)}`;
  const response = await runSimulation(
    {
      identityPolicies: identityPolicies(call.principal),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: resourcePolicy(call.resource),
      request: {
        action: call.action,
        principal,
        resource: { resource: call.resource, accountId: LOCAL_AWS.account },
        // The SDK calls AWS over HTTPS only.
        contextVariables: { 'aws:SecureTransport': 'true' },
      },
    },
    {},
  );
  return response.resultType === 'error' ? `error: ${JSON.stringify(response.errors)}` : response.overallResult;
}

it('made calls as every function that calls AWS, and invoked the dispatcher from both state machines', () => {
  const principals = new Set(calls.map((c) => c.principal));
  const callers = Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine' || r.Metadata?.[ENTRY_METADATA_KEY] !== undefined)
    .map(([id]) => id)
    .filter((id) =>
      inlinePolicies(template, roleOf(template, id)).some((p) =>
        JSON.stringify(p.document).match(/"(dynamodb|sqs|states|secretsmanager|lambda):/),
      ),
    );
  expect(callers.length).toBeGreaterThanOrEqual(7);
  expect(callers.filter((id) => !principals.has(id))).toEqual([]);
  expect(calls.filter((c) => c.principal === '(no function)')).toEqual([]);
});

it("allows every recorded call by the caller's synthesized role policies", async () => {
  const denied: string[] = [];
  for (const call of calls) {
    const result = await decision(call);
    if (result !== 'Allowed') denied.push(`${call.principal} ${call.action} ${call.resource}: ${result}`);
  }
  expect(denied).toEqual([]);
});

it('lists the granted actions no run used, each with the reason it is granted', () => {
  const used = new Set(calls.map((c) => `${c.principal} ${c.action}`));
  const unused: Array<{ principal: string; action: string; reason: string }> = [];
  for (const principal of new Set(calls.map((c) => c.principal)))
    for (const { document } of inlinePolicies(template, roleOf(template, principal)))
      for (const statement of recordsOf(document.Statement))
        for (const action of [statement.Action].flat().map(scalar))
          if (statement.Effect === 'Allow' && !used.has(`${principal} ${action}`))
            unused.push({ principal, action, reason: reasonFor(principal, action) ?? 'NO REASON GIVEN' });
  const lines = [...new Set(unused.map((u) => `  ${u.principal.padEnd(40)} ${u.action.padEnd(32)} ${u.reason}`))].sort();
  console.log(`Granted but not used by the ${calls.length} distinct recorded calls:\n${lines.join('\n')}`);
  expect(unused.filter((u) => !reasonFor(u.principal, u.action))).toEqual([]);
});
