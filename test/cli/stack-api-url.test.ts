import { describe, expect, it } from 'vitest';
import { apiUrlFromOutputs } from '../../packages/cli/src/stack-api-url';

describe('apiUrlFromOutputs', () => {
  it('takes the ApiUrl output of DescribeStacks among the others', () => {
    const outputs = [
      { OutputKey: 'StandardStateMachineArn', OutputValue: 'arn:aws:states:eu-west-1:1:stateMachine:s' },
      { OutputKey: 'ApiUrl', OutputValue: 'https://abc123.execute-api.eu-west-1.amazonaws.com' },
    ];
    expect(apiUrlFromOutputs('OptiInfraOrchestrator-dev-Stateless', outputs)).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com');
  });

  it.each([[undefined], [[]], [[{ OutputKey: 'FleetTokensSecretArn', OutputValue: 'arn:x' }]]])(
    'names the stack to pass instead when there is none (%j)',
    (outputs) => {
      expect(() => apiUrlFromOutputs('OptiInfraOrchestrator-dev-Stateful', outputs)).toThrow(
        'stack OptiInfraOrchestrator-dev-Stateful has no ApiUrl output: pass the stateless stack, such as --stack OptiInfraOrchestrator-dev-Stateless',
      );
    },
  );
});
