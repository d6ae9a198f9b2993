import { NetworkError } from '@optiinfra/client';
import { UsageError } from './usage.js';

/** The output of the stateless stack (lib/stateless-stack.ts) that holds the API's base URL. */
export const API_URL_OUTPUT = 'ApiUrl';

export interface StackOutput {
  OutputKey?: string;
  OutputValue?: string;
}

/** The ApiUrl among a stack's outputs, as DescribeStacks lists them. */
export function apiUrlFromOutputs(stackName: string, outputs: readonly StackOutput[] | undefined): string {
  const url = outputs?.find((o) => o.OutputKey === API_URL_OUTPUT)?.OutputValue;
  if (!url) {
    throw new UsageError(
      `stack ${stackName} has no ${API_URL_OUTPUT} output: pass the stateless stack, such as --stack OptiInfraOrchestrator-dev-Stateless`,
    );
  }
  return url;
}

function lookupError(stackName: string, region: string | undefined, err: unknown): Error {
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  if (/does not exist/.test(message)) {
    return new UsageError(`stack ${stackName} does not exist in ${region ?? 'the default region'}: check --stack and --region`);
  }
  if (name === 'CredentialsProviderError')
    return new UsageError(`no AWS credentials to read stack ${stackName}: set AWS_PROFILE or AWS_ACCESS_KEY_ID`);
  if (/region is missing/i.test(message))
    return new UsageError(`no AWS region to find stack ${stackName} in: pass --region or set AWS_REGION`);
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return new NetworkError(`could not reach CloudFormation (${code})`, { cause: err });
  if (name === 'TimeoutError') return new NetworkError(`could not reach CloudFormation (${message})`, { cause: err });
  return err instanceof Error ? err : new Error(message);
}

/** Reads the stack's ApiUrl output with CloudFormation DescribeStacks. The AWS SDK is loaded only for --stack. */
export async function apiUrlOfStack(stackName: string, region: string | undefined): Promise<string> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const cfn = new CloudFormationClient(region ? { region } : {});
  try {
    const answer = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    return apiUrlFromOutputs(stackName, answer.Stacks?.[0]?.Outputs);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const resolved = region ?? (await cfn.config.region().catch(() => undefined));
    throw lookupError(stackName, resolved, err);
  } finally {
    cfn.destroy();
  }
}
