import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../functions/api/routes';
import { buildOrchestrator, DEFAULT_DEPLOYMENT } from '../../lib/app-builder';

let template: Template;

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  template = Template.fromStack(buildOrchestrator(app, DEFAULT_DEPLOYMENT).orchestrator);
});

function definitionOf(): Record<string, unknown> {
  const machines = template.findResources('AWS::StepFunctions::StateMachine');
  const [machine] = Object.values(machines);
  const def = (machine as { Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } } }).Properties.DefinitionString;
  const text = def['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : 'arn:aws:lambda:us-east-1:000000000000:function:Dispatcher')).join('');
  return JSON.parse(text) as Record<string, unknown>;
}

describe('the deployed task state machine', () => {
  it('limits each dispatch step by the per-task timeout from the execution input', () => {
    const states = definitionOf().States as Record<string, Record<string, unknown>>;
    expect(states.Dispatch).toMatchObject({ Type: 'Task', TimeoutSecondsPath: '$.state_timeout_seconds', ResultPath: '$.step' });
    expect(states.Dispatch!.TimeoutSeconds).toBeUndefined();
  });

  it('waits between retries and for agents for as long as each step says, not a constant', () => {
    const states = definitionOf().States as Record<string, Record<string, unknown>>;
    expect(states.RetryDelay).toEqual({ Type: 'Wait', SecondsPath: '$.step.delay_seconds', Next: 'Dispatch' });
    expect(states.WaitForAgent).toEqual({ Type: 'Wait', SecondsPath: '$.step.delay_seconds', Next: 'Dispatch' });
    expect(states.Route).toMatchObject({
      Type: 'Choice',
      Choices: [
        { Variable: '$.step.outcome', StringEquals: 'retry', Next: 'RetryDelay' },
        { Variable: '$.step.outcome', StringEquals: 'wait', Next: 'WaitForAgent' },
      ],
      Default: 'Done',
    });
  });

  it('catches every failure of the dispatch step in a step that records it, which itself ends in Stranded', () => {
    const states = definitionOf().States as Record<string, Record<string, unknown>>;
    expect(states.Dispatch!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.fault', Next: 'RecordFault' }]);
    expect(states.RecordFault).toMatchObject({ Next: 'Route', Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.fault', Next: 'Stranded' }] });
    expect(states.Stranded).toMatchObject({ Type: 'Fail' });
  });

  it('uses JSONPath only (the local engine cannot run JSONata or variables)', () => {
    const text = JSON.stringify(definitionOf());
    expect(text).not.toMatch(/JSONata|"Assign"|\$\$\.Task\.Token|waitForTaskToken/);
  });

  it('has logging at ALL and X-Ray tracing', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
  });
});

describe('the data stores', () => {
  it('keeps tasks and agents in on-demand tables with point-in-time recovery and TTL', () => {
    const tables = template.findResources('AWS::DynamoDB::Table', {
      Properties: { BillingMode: 'PAY_PER_REQUEST', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true } },
    });
    expect(Object.keys(tables)).toHaveLength(2);
  });

  it('indexes tasks by status, agent type and month for listing', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'task_id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({ IndexName: 'by-status', Projection: { ProjectionType: 'KEYS_ONLY' } }),
        Match.objectLike({ IndexName: 'by-agent-type' }),
        Match.objectLike({ IndexName: 'by-month' }),
      ]),
    });
  });

  it('gives the intake queue a dead-letter queue and starts tasks with partial batch failures', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 } });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionResponseTypes: ['ReportBatchItemFailures'], BatchSize: 10 });
  });
});

describe('the functions and the API', () => {
  it('runs every function on Node 22, arm64, with active tracing', () => {
    const fns = template.findResources('AWS::Lambda::Function');
    expect(Object.keys(fns).length).toBeGreaterThanOrEqual(6);
    for (const fn of Object.values(fns) as Array<{ Properties: Record<string, unknown> }>) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
    }
  });

  it('authenticates every route with IAM except GET /health', () => {
    const routes = template.findResources('AWS::ApiGatewayV2::Route') as Record<string, { Properties: { RouteKey: string; AuthorizationType?: string } }>;
    const keys = Object.values(routes).map((r) => r.Properties.RouteKey).sort();
    expect(keys).toEqual(API_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    for (const route of Object.values(routes)) {
      expect(route.Properties.AuthorizationType).toBe(route.Properties.RouteKey === 'GET /health' ? 'NONE' : 'AWS_IAM');
    }
  });

  it('grants no IAM statement a service-wide wildcard on every resource', () => {
    const policies = template.findResources('AWS::IAM::Policy') as Record<string, { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } } }>;
    for (const policy of Object.values(policies)) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        const actions = [statement.Action].flat();
        const onEverything = statement.Resource === '*';
        for (const action of actions) expect(onEverything && /:\*$/.test(action), `${action} on *`).toBe(false);
      }
    }
  });
});
