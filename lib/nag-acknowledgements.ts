import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { StatefulStack } from './stateful-stack';
import type { StatelessStack } from './stateless-stack';

function ack(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

function logicalId(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct as CfnElement);
}

/** The cdk-nag AwsSolutions findings this design accepts, each with its reason. Everything else fails synth. */
export function acknowledgeNagFindings(stateful: StatefulStack, stateless: StatelessStack): void {
  ack(
    stateful.fleetTokens,
    'AwsSolutions-SMG4',
    'Fleet tokens are rotated by listing the new token beside the old one while agents switch over; an automatic rotation would replace the token under running agents and lock them out.',
  );
  ack(
    stateless,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'The AWS-managed basic execution policy only lets a function write its own CloudWatch logs; a copy of it would grant the same.',
  );
  ack(
    stateless,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
    'Functions in the VPC need to create and delete their network interfaces; this AWS-managed policy is the minimal set Lambda requires.',
  );
  ack(
    stateless,
    'AwsSolutions-IAM5[Resource::*]',
    'Only actions without resource-level permissions use "*": X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) and the CloudWatch Logs delivery actions Step Functions logging needs.',
  );
  ack(
    stateless,
    'AwsSolutions-L1',
    'Node.js 22 (nodejs22.x) is the chosen runtime: the local runtime and the tests run the same handlers on Node 22. Moving to a newer runtime is a deliberate upgrade.',
  );
  ack(
    stateless,
    'AwsSolutions-APIG4',
    'Only GET /health is unauthenticated, by design: a liveness probe for load balancers and agents that returns no data. Every other route uses IAM (or JWT).',
  );
  ack(
    stateless,
    'AwsSolutions-SF1',
    "The state machines log ERROR by default: ALL writes ~4 KB of CloudWatch Logs per task (every state transition), most of a task's log cost; failed and timed-out executions are still logged, X-Ray traces every execution, and context workflowLogLevel=ALL turns full logging on.",
  );
  const dispatcher = stateless.node.findChild('Dispatcher').node.findChild('Function').node.defaultChild as CfnElement;
  ack(
    stateless,
    `AwsSolutions-IAM5[Resource::<${logicalId(dispatcher)}.Arn>:*]`,
    'The state machines may invoke the dispatcher function and its versions/aliases (the ":*" suffix), nothing else.',
  );
  const standard = stateless.node.findChild('StandardWorkflow').node.findChild('StateMachine').node.defaultChild as CfnElement;
  ack(
    stateless,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalId(standard)}"}]}]}:*]`,
    'The starter describes, and the tasks API stops, executions of the Standard state machine only: execution ARNs are the machine name plus ":<execution name>".',
  );
  const endpoints = stateful.node.tryFindChild('Network')?.node.tryFindChild('Endpoints');
  if (endpoints) {
    ack(
      endpoints,
      'AwsSolutions-EC23',
      "The rule cannot evaluate a security-group reference; the only ingress is HTTPS from the orchestrator functions' security group.",
    );
  }
}
