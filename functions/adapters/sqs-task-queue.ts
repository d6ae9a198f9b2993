import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { PRIORITY } from '../core/task-model';
import { type Continuation, type FirstStart, MAX_ENQUEUE_DELAY_SECONDS, type TaskQueue } from '../core/ports';

/**
 * The intake queue: one message per task to start, carrying its id, and at submit how to start its
 * first execution, or for a continuation which generation to start; or a finished task's callback to send.
 */
export class SqsTaskQueue implements TaskQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(taskId: string, priority: number, start?: FirstStart | Continuation, delaySeconds?: number): Promise<void> {
    const body =
      start === undefined
        ? { task_id: taskId }
        : 'generation' in start
          ? { task_id: taskId, generation: start.generation }
          : { task_id: taskId, first_start: start };
    await this.send(body, priority, delaySeconds);
  }

  /** The message `{ task_id, callback: true }`: the starter sends the finished task's callback. */
  async enqueueCallback(taskId: string, delaySeconds?: number): Promise<void> {
    await this.send({ task_id: taskId, callback: true }, PRIORITY.normal, delaySeconds);
  }

  private async send(body: object, priority: number, delaySeconds: number | undefined): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(body),
        MessageAttributes: { priority: { DataType: 'Number', StringValue: String(priority) } },
        ...(delaySeconds ? { DelaySeconds: Math.min(MAX_ENQUEUE_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds))) } : {}),
      }),
    );
  }
}
