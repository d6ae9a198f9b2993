import { describe, expect, it } from 'vitest';
import { StateMachine } from '../../local/stand-ins/step-functions-engine';
import { type CfnTemplate, resolveIntrinsics } from '../../local/template/cfn-template';
import { queuesFromTemplate } from '../../local/template/queues';
import { stateMachinesFromTemplate } from '../../local/template/state-machines';
import { tablesFromTemplate } from '../../local/template/tables';

const ENV = { region: 'eu-west-1', account: '123456789012', partition: 'aws' };

const fn = { Type: 'AWS::Lambda::Function', Properties: { Handler: 'index.handler' } };

/** The shape CDK synthesizes for a LambdaInvoke with payloadResponseOnly: the ARN spliced into the JSON by Fn::Join. */
function joinedDefinition(): CfnTemplate {
  return {
    Resources: {
      WorkerFn1A2B: fn,
      HelperFn3C4D: fn,
      Queue99: { Type: 'AWS::SQS::Queue' },
      Flow5E6F: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          DefinitionString: {
            'Fn::Join': [
              '',
              [
                '{"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"',
                { 'Fn::GetAtt': ['WorkerFn1A2B', 'Arn'] },
                '","Next":"Fan"},"Fan":{"Type":"Parallel","Branches":[{"StartAt":"Help","States":{"Help":{"Type":"Task","Resource":"arn:',
                { Ref: 'AWS::Partition' },
                ':states:::lambda:invoke","Parameters":{"FunctionName":"',
                { 'Fn::GetAtt': ['HelperFn3C4D', 'Arn'] },
                '","Payload.$":"$"},"End":true}}}],"Next":"Each"},"Each":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"PerItem","States":{"PerItem":{"Type":"Task","Resource":"',
                { 'Fn::GetAtt': ['WorkerFn1A2B', 'Arn'] },
                '","End":true}}},"Next":"Store"},"Store":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","Parameters":{"QueueUrl":"',
                { Ref: 'Queue99' },
                '","MessageBody.$":"$"},"End":true}},"TimeoutSeconds":300}',
              ],
            ],
          },
          StateMachineType: 'STANDARD',
        },
      },
    },
  };
}

describe('resolveIntrinsics', () => {
  const template: CfnTemplate = {
    Resources: {
      Fn1: fn,
      Machine1: { Type: 'AWS::StepFunctions::StateMachine' },
      Jobs: { Type: 'AWS::SQS::Queue' },
      Items: { Type: 'AWS::DynamoDB::Table' },
      Topic: { Type: 'AWS::SNS::Topic' },
    },
    Parameters: { Stage: { Default: 'dev' } },
  };

  it.each([
    ['GetAtt of a function', { 'Fn::GetAtt': ['Fn1', 'Arn'] }, 'arn:aws:lambda:eu-west-1:123456789012:function:Fn1'],
    ['GetAtt in dotted form', { 'Fn::GetAtt': 'Fn1.Arn' }, 'arn:aws:lambda:eu-west-1:123456789012:function:Fn1'],
    ['GetAtt of a state machine', { 'Fn::GetAtt': ['Machine1', 'Arn'] }, 'arn:aws:states:eu-west-1:123456789012:stateMachine:Machine1'],
    ['GetAtt of a queue', { 'Fn::GetAtt': ['Jobs', 'Arn'] }, 'arn:aws:sqs:eu-west-1:123456789012:Jobs'],
    ['GetAtt of a table', { 'Fn::GetAtt': ['Items', 'Arn'] }, 'arn:aws:dynamodb:eu-west-1:123456789012:table/Items'],
    ['Ref of a queue (its URL)', { Ref: 'Jobs' }, 'https://sqs.eu-west-1.amazonaws.com/123456789012/Jobs'],
    ['Ref of a state machine (its ARN)', { Ref: 'Machine1' }, 'arn:aws:states:eu-west-1:123456789012:stateMachine:Machine1'],
    ['Ref of a table (its name)', { Ref: 'Items' }, 'Items'],
    ['Ref of a parameter (its default)', { Ref: 'Stage' }, 'dev'],
    [
      'pseudo parameters',
      { 'Fn::Join': [':', [{ Ref: 'AWS::Partition' }, { Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }]] },
      'aws:eu-west-1:123456789012',
    ],
    [
      'Fn::Sub with resources, attributes, pseudo parameters and an escape',
      { 'Fn::Sub': '${Items}|${Fn1.Arn}|${AWS::Region}|${!Literal}' },
      'Items|arn:aws:lambda:eu-west-1:123456789012:function:Fn1|eu-west-1|${Literal}',
    ],
    ['Fn::Sub with variables', { 'Fn::Sub': ['${A}-${B}', { A: 'x', B: { Ref: 'Topic' } }] }, 'x-arn:aws:sns:eu-west-1:123456789012:Topic'],
    ['Fn::Select of Fn::Split', { 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] }, 'b'],
  ])('%s', (_, value, expected) => {
    expect(resolveIntrinsics(value, template, ENV)).toBe(expected);
  });

  it('resolves nested objects and lists, and drops AWS::NoValue', () => {
    const value = { a: [{ Ref: 'Items' }, { Ref: 'AWS::NoValue' }], b: { c: { Ref: 'AWS::NoValue' }, d: 1 } };
    expect(resolveIntrinsics(value, template, ENV)).toEqual({ a: ['Items'], b: { d: 1 } });
  });

  it('refuses unknown resources and unsupported functions', () => {
    expect(() => resolveIntrinsics({ 'Fn::GetAtt': ['Missing', 'Arn'] }, template, ENV)).toThrow(/Missing/);
    expect(() => resolveIntrinsics({ 'Fn::Sub': '${Nope}' }, template, ENV)).toThrow(/Nope/);
    expect(() => resolveIntrinsics({ 'Fn::ImportValue': 'x' }, template, ENV)).toThrow(/Fn::ImportValue/);
  });
});

describe('stateMachinesFromTemplate', () => {
  it('turns an Fn::Join DefinitionString into ASL and finds the Lambda tasks, also inside Parallel and Map', () => {
    const [machine, ...others] = stateMachinesFromTemplate(joinedDefinition(), ENV);
    expect(others).toEqual([]);
    expect(machine!.logicalId).toBe('Flow5E6F');
    expect(machine!.stateMachineType).toBe('STANDARD');
    expect(machine!.definition.States.Work).toMatchObject({ Resource: 'arn:aws:lambda:eu-west-1:123456789012:function:WorkerFn1A2B' });
    expect(machine!.definition.States.Store).toMatchObject({
      Parameters: { QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/Queue99' },
    });
    expect(machine!.taskStates).toEqual([
      { stateName: 'Work', functionLogicalId: 'WorkerFn1A2B', integration: 'function-arn' },
      { stateName: 'Help', functionLogicalId: 'HelperFn3C4D', integration: 'lambda-invoke' },
      { stateName: 'PerItem', functionLogicalId: 'WorkerFn1A2B', integration: 'function-arn' },
    ]);
    expect(() => new StateMachine(machine!.definition as never)).not.toThrow();
  });

  it('applies DefinitionSubstitutions to a plain DefinitionString, and reads EXPRESS', () => {
    const template: CfnTemplate = {
      Resources: {
        Go: fn,
        Quick: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: {
            StateMachineType: 'EXPRESS',
            DefinitionString: '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${GoArn}","End":true}}}',
            DefinitionSubstitutions: { GoArn: { 'Fn::GetAtt': ['Go', 'Arn'] } },
          },
        },
      },
    };
    const [machine] = stateMachinesFromTemplate(template, ENV);
    expect(machine).toMatchObject({
      logicalId: 'Quick',
      stateMachineType: 'EXPRESS',
      taskStates: [{ stateName: 'A', functionLogicalId: 'Go', integration: 'function-arn' }],
    });
    expect(machine!.definition.States.A!.Resource).toBe('arn:aws:lambda:eu-west-1:123456789012:function:Go');
  });

  it('reads an Fn::Sub DefinitionString and lambda:invoke by function name with a qualifier', () => {
    const template: CfnTemplate = {
      Resources: {
        Go: fn,
        Named: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'my-named-fn' } },
        Subbed: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: {
            DefinitionString: {
              'Fn::Sub':
                '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:${AWS::Partition}:states:::lambda:invoke","Parameters":{"FunctionName":"${Go.Arn}:$LATEST","Payload.$":"$"},"Next":"B"},' +
                '"B":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"my-named-fn"},"End":true}}}',
            },
          },
        },
      },
    };
    const [machine] = stateMachinesFromTemplate(template, ENV);
    expect(machine!.taskStates).toEqual([
      { stateName: 'A', functionLogicalId: 'Go', integration: 'lambda-invoke' },
      { stateName: 'B', functionLogicalId: 'Named', integration: 'lambda-invoke' },
    ]);
  });

  it('reads a Definition given as an object, with DefinitionSubstitutions', () => {
    const template: CfnTemplate = {
      Resources: {
        Go: fn,
        Obj: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: {
            Definition: { StartAt: 'A', States: { A: { Type: 'Task', Resource: '${fn}', End: true } } },
            DefinitionSubstitutions: { fn: { 'Fn::GetAtt': ['Go', 'Arn'] } },
          },
        },
      },
    };
    const [machine] = stateMachinesFromTemplate(template, ENV);
    expect(machine!.definition.States.A!.Resource).toBe('arn:aws:lambda:eu-west-1:123456789012:function:Go');
    expect(machine!.taskStates).toEqual([{ stateName: 'A', functionLogicalId: 'Go', integration: 'function-arn' }]);
  });

  it('refuses JSONata and definitions it cannot read', () => {
    const jsonata: CfnTemplate = {
      Resources: {
        M: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: { DefinitionString: '{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Succeed"}}}' },
        },
      },
    };
    expect(() => stateMachinesFromTemplate(jsonata, ENV)).toThrow(/JSONata/);
    const s3: CfnTemplate = {
      Resources: { M: { Type: 'AWS::StepFunctions::StateMachine', Properties: { DefinitionS3Location: { Bucket: 'b', Key: 'k' } } } },
    };
    expect(() => stateMachinesFromTemplate(s3, ENV)).toThrow(/DefinitionS3Location/);
  });
});

describe('tablesFromTemplate', () => {
  it('gives CreateTable inputs named by logical id, on demand, with GSI projections, and leaves out what the local store lacks', () => {
    const template: CfnTemplate = {
      Resources: {
        Orders1234: {
          Type: 'AWS::DynamoDB::Table',
          Properties: {
            KeySchema: [
              { AttributeName: 'pk', KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ],
            AttributeDefinitions: [
              { AttributeName: 'pk', AttributeType: 'S' },
              { AttributeName: 'sk', AttributeType: 'S' },
              { AttributeName: 'status', AttributeType: 'S' },
            ],
            BillingMode: 'PROVISIONED',
            ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
            GlobalSecondaryIndexes: [
              {
                IndexName: 'by-status',
                KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }],
                Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['total'] },
                ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
              },
            ],
            TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            SSESpecification: { 'Fn::If': ['Cond', { SSEEnabled: true }, { Ref: 'AWS::NoValue' }] },
          },
        },
        NotATable: fn,
      },
    };
    expect(tablesFromTemplate(template)).toEqual([
      {
        logicalId: 'Orders1234',
        input: {
          TableName: 'Orders1234',
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
            { AttributeName: 'status', AttributeType: 'S' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
          GlobalSecondaryIndexes: [
            {
              IndexName: 'by-status',
              KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }],
              Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['total'] },
            },
          ],
        },
      },
    ]);
  });
});

describe('queuesFromTemplate', () => {
  it('gives queue attributes as strings and links a queue to its dead-letter queue by logical id', () => {
    const template: CfnTemplate = {
      Resources: {
        JobsDlq: { Type: 'AWS::SQS::Queue', Properties: { MessageRetentionPeriod: 1209600 } },
        Jobs: {
          Type: 'AWS::SQS::Queue',
          Properties: {
            VisibilityTimeout: 180,
            MessageRetentionPeriod: 345600,
            RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['JobsDlq', 'Arn'] }, maxReceiveCount: 5 },
            KmsMasterKeyId: { 'Fn::GetAtt': ['SomeKeyElsewhere', 'Arn'] },
          },
        },
        Ordered: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true, ContentBasedDeduplication: true } },
      },
    };
    expect(queuesFromTemplate(template)).toEqual([
      { logicalId: 'JobsDlq', queueName: 'JobsDlq', attributes: { MessageRetentionPeriod: '1209600' } },
      {
        logicalId: 'Jobs',
        queueName: 'Jobs',
        attributes: {
          VisibilityTimeout: '180',
          MessageRetentionPeriod: '345600',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:JobsDlq', maxReceiveCount: 5 }),
        },
        deadLetterLogicalId: 'JobsDlq',
      },
      { logicalId: 'Ordered', queueName: 'Ordered.fifo', attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' } },
    ]);
  });
});
