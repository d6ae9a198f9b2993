import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { FirstStart, TaskQueue } from '../core/ports';

/** The intake queue: one message per task to start, carrying its id, and at submit how to start its first execution. */
export class SqsTaskQueue implements TaskQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(taskId: string, priority: number, firstStart?: FirstStart): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(firstStart ? { task_id: taskId, first_start: firstStart } : { task_id: taskId }),
        MessageAttributes: { priority: { DataType: 'Number', StringValue: String(priority) } },
      }),
    );
  }
}
