import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { TaskQueue } from '../core/ports';

/** The intake queue: one message per task to start, carrying only its id. */
export class SqsTaskQueue implements TaskQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(taskId: string, priority: number): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify({ task_id: taskId }),
        MessageAttributes: { priority: { DataType: 'Number', StringValue: String(priority) } },
      }),
    );
  }
}
