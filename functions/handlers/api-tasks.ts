import { reportProgress, reportResult } from '../app/agent-reports';
import { cancelTask, listTasks, submitTask } from '../app/tasks';
import { waitForTask } from '../app/wait-for-task';
import { ValidationError } from '@optiinfra/contract';
import {
  AGENT_AUTH_HEADERS,
  agentProgressSchema,
  agentReportSchema,
  getTaskQuerySchema,
  idempotencyKeyOf,
  listTasksQuerySchema,
  taskSubmitRequestSchema,
} from '@optiinfra/contract';
import { parseOrThrow } from '../core/validation';
import { agentClient } from '../composition/agent-client';
import { config, depsOf } from '../composition/composition-root';
import { agents, tasks } from '../composition/dynamodb-stores';
import { httpApi, idParam } from '../composition/http-handler';
import { queue } from '../composition/intake-queue';
import { logger } from '../composition/observability';
import { submitIdempotency } from '../composition/submit-idempotency';
import { cache } from '../composition/task-cache';
import { workflow } from '../composition/workflow';

const deps = depsOf({ agents, tasks, queue, cache, workflow, agentClient });

export const handler = httpApi(
  'tasks',
  {
    'POST /tasks': async (req) => {
      if (req.body === undefined)
        throw new ValidationError(
          'invalid task submission: the request has no body; send a JSON TaskSubmitRequest such as {"task_type":"analyze_cost","agent_type":"cost"}',
        );
      const key = idempotencyKeyOf(req.headers);
      const request = parseOrThrow(taskSubmitRequestSchema, req.body, 'task submission');
      const submit = () =>
        submitTask(deps, request, (err) =>
          logger.error({ message: 'task stored but not enqueued; the reconciler will start it', error: err as Error }),
        );
      // Keys are per caller: two callers may pick the same key without seeing each other's tasks.
      const submitted =
        key === undefined ? await submit() : await submitIdempotency().run(`${req.caller}:${key}`, request, req.context, submit);
      return { status: 201, body: submitted };
    },
    'GET /tasks': async (req) => ({
      status: 200,
      body: await listTasks(deps, parseOrThrow(listTasksQuerySchema, req.query, 'task list query')),
    }),
    'GET /tasks/{id}': async (req) => {
      const id = idParam(req, 'task');
      const { wait } = parseOrThrow(getTaskQuerySchema, req.query, 'task read query');
      return { status: 200, body: await waitForTask(deps, id, wait ?? 0) };
    },
    'DELETE /tasks/{id}': async (req) => ({ status: 200, body: await cancelTask(deps, idParam(req, 'task')) }),
    'POST /tasks/{id}/result': async (req) => {
      const id = idParam(req, 'task');
      const report = parseOrThrow(agentReportSchema, req.body ?? {}, 'task report');
      return { status: 200, body: await reportResult(deps, id, req.headers[AGENT_AUTH_HEADERS.agentToken], report) };
    },
    'POST /tasks/{id}/progress': async (req) => {
      const id = idParam(req, 'task');
      const progress = parseOrThrow(agentProgressSchema, req.body ?? {}, 'task progress');
      return { status: 200, body: await reportProgress(deps, id, req.headers[AGENT_AUTH_HEADERS.agentToken], progress) };
    },
  },
  { maxBodyBytes: config.MAX_BODY_BYTES, maxAnswerBytes: config.MAX_AGENT_ANSWER_BYTES },
);
