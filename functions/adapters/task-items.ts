/**
 * How a task lies in the Tasks table, for both stores: a payload item (parameters and metadata,
 * written once at submit, key `<task_id>#payload`) and a state item under the task id, which status
 * changes rewrite. The state item carries its index keys: `created_key` (sort key of both indexes),
 * and `open_shard` while the task is unfinished, `finished_shard` once it is finished.
 */
import { createdKey, TASKS_TABLE_KEYS, taskShard } from '../core/table-keys';
import { isTerminal, type Task, type TaskPayload, type TaskState } from '../core/task-model';

export type Item = Record<string, unknown>;

/** The attributes of a state item that only the table has. */
const INDEX_ATTRIBUTES = [
  'created_key',
  TASKS_TABLE_KEYS.open.partitionKey,
  TASKS_TABLE_KEYS.finished.partitionKey,
  TASKS_TABLE_KEYS.callbacks.partitionKey,
  TASKS_TABLE_KEYS.callbacks.sortKey,
] as const satisfies readonly string[];

export const payloadKey = (taskId: string) => `${taskId}${TASKS_TABLE_KEYS.payloadSuffix}`;

/** A task id a state item can have: payload keys are not task ids. */
export const isTaskId = (taskId: string) => !taskId.endsWith(TASKS_TABLE_KEYS.payloadSuffix);

export function stateItemOf(task: Task): Item {
  const { parameters: _parameters, metadata: _metadata, ...state } = task;
  const shardKey = isTerminal(task.status) ? TASKS_TABLE_KEYS.finished.partitionKey : TASKS_TABLE_KEYS.open.partitionKey;
  return { ...state, created_key: createdKey(task.created_at, task.task_id), [shardKey]: taskShard(task.task_id) };
}

export function payloadItemOf(task: Task, expiresAt: number | undefined): Item {
  const item: Item = { task_id: payloadKey(task.task_id), parameters: task.parameters, metadata: task.metadata };
  if (expiresAt !== undefined) item[TASKS_TABLE_KEYS.ttlAttribute] = expiresAt;
  return item;
}

export function stateOf(item: Item): TaskState {
  const state = { ...item };
  for (const name of INDEX_ATTRIBUTES) delete state[name];
  return state as unknown as TaskState;
}

export function payloadOf(item: Item): TaskPayload {
  return { parameters: item.parameters as TaskPayload['parameters'], metadata: item.metadata as TaskPayload['metadata'] };
}

/** A payload no longer stored (past its retention) is listed as empty rather than hiding its task. */
export const MISSING_PAYLOAD: TaskPayload = { parameters: {}, metadata: {} };
