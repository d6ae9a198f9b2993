/** The SQS queues of a template, as CreateQueue attributes. */
import { type AwsEnv, type CfnTemplate, DEFAULT_ENV, getAttOf, isRecord, pickResolved, resolveIntrinsics, scalar } from './cfn-template';

export interface TemplateQueue {
  logicalId: string;
  /** The logical id, plus `.fifo` for a FIFO queue (SQS requires the suffix). */
  queueName: string;
  /** CreateQueue attributes; RedrivePolicy points at the ARN the DLQ has when it is named by its logical id in `env`. */
  attributes: Record<string, string>;
  deadLetterLogicalId?: string;
}

const QUEUE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
] as const;

function deadLetterLogicalIdOf(target: unknown, template: CfnTemplate): string | undefined {
  if (isRecord(target) && 'Fn::GetAtt' in target) {
    const arg = target['Fn::GetAtt'];
    const id = typeof arg === 'string' ? arg.split('.')[0] : Array.isArray(arg) ? (arg as unknown[])[0] : undefined;
    return typeof id === 'string' ? id : undefined;
  }
  if (typeof target === 'string') {
    const name = target.split(':').pop();
    return name && template.Resources[name]?.Type === 'AWS::SQS::Queue' ? name : undefined;
  }
  return undefined;
}

/**
 * CreateQueue attributes for every SQS queue in the template. A queue's RedrivePolicy keeps its
 * maxReceiveCount and names the DLQ by logical id (`deadLetterLogicalId`): the caller creates the
 * DLQ first and puts its real ARN into the policy.
 */
export function queuesFromTemplate(template: CfnTemplate, env: AwsEnv = DEFAULT_ENV): TemplateQueue[] {
  const queues: TemplateQueue[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::SQS::Queue') continue;
    const raw = resource.Properties ?? {};
    const properties = pickResolved(raw, QUEUE_ATTRIBUTES, template, env);
    const attributes: Record<string, string> = {};
    for (const name of QUEUE_ATTRIBUTES) {
      const value = properties[name];
      if (value !== undefined && value !== null) attributes[name] = scalar(value);
    }
    const queue: TemplateQueue = { logicalId, queueName: attributes.FifoQueue === 'true' ? `${logicalId}.fifo` : logicalId, attributes };
    const redrive = typeof raw.RedrivePolicy === 'string' ? (JSON.parse(raw.RedrivePolicy) as unknown) : raw.RedrivePolicy;
    if (isRecord(redrive)) {
      const deadLetterLogicalId = deadLetterLogicalIdOf(redrive.deadLetterTargetArn, template);
      if (!deadLetterLogicalId) throw new Error(`${logicalId}: the RedrivePolicy's deadLetterTargetArn is not a queue of this template`);
      queue.deadLetterLogicalId = deadLetterLogicalId;
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: getAttOf(deadLetterLogicalId, 'Arn', template, env),
        maxReceiveCount: Number(resolveIntrinsics(redrive.maxReceiveCount, template, env) ?? 10),
      });
    }
    queues.push(queue);
  }
  return queues;
}
