import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { startTask } from '../app/start-task';
import { deliverCallback } from '../app/task-callbacks';
import { callbackClient } from '../composition/agent-client';
import { depsOf } from '../composition/composition-root';
import { callbacks, tasks } from '../composition/dynamodb-stores';
import { eventHandler } from '../composition/event-handler';
import { queue } from '../composition/intake-queue';
import { logger } from '../composition/observability';
import { workflow } from '../composition/workflow';

const deps = depsOf({ tasks, workflow, queue, callbacks, callbackClient });
const processor = new BatchProcessor(EventType.SQS);
// zod/mini: nothing else in this function uses zod's classic API (the wire contract). With the
// English messages the classic API sets up, for the log of a message that does not parse.
z.config(en());
const messageSchema = z.object({
  task_id: z.uuid(),
  /** Set by submit: start this execution without reading the task. Absent on re-drives and hand-overs. */
  first_start: z.optional(z.object({ workflow: z.enum(['express', 'standard']), timeout_seconds: z.int().check(z.positive()) })),
  /** Set by a Standard execution near its history budget: start this generation of the task's executions. */
  generation: z.optional(z.int().check(z.positive())),
  /** Set when the task is finished: send its submitter's callback (app/task-callbacks.ts). */
  callback: z.optional(z.literal(true)),
});

/** One intake message: start the task's execution. A failure leaves just this message for redelivery (and, in the end, the DLQ). */
async function startOne(record: SQSRecord): Promise<void> {
  const { task_id, first_start, generation, callback } = messageSchema.parse(JSON.parse(record.body));
  if (callback) {
    const report = await deliverCallback(deps, task_id);
    const line = { message: 'callback', task_id, ...report, receive_count: record.attributes.ApproximateReceiveCount };
    // As for starts: the routine case (sent at the first try) is DEBUG; a retry, a failure or a duplicate stays INFO.
    if (report.outcome === 'sent' && line.receive_count === '1') logger.debug(line);
    else logger.info(line);
    return;
  }
  const outcome = await startTask(deps, task_id, generation === undefined ? first_start : { generation });
  const line = { message: 'intake', task_id, outcome, receive_count: record.attributes.ApproximateReceiveCount };
  // The routine case, a first start, is DEBUG (every task has one); a redelivery or a re-drive stays INFO.
  if (outcome === 'started' && line.receive_count === '1') logger.debug(line);
  else logger.info(line);
}

export const handler = eventHandler(async (event: SQSEvent, context) => processPartialResponse(event, startOne, processor, { context }));
