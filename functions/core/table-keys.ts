/**
 * The key schemas of the DynamoDB tables: the adapters read and write by them, and the CDK app
 * (lib/constructs/task-tables.ts) builds the tables from them, so the two cannot disagree.
 */

/** Index names and key attributes of the Tasks table. */
export const TASKS_TABLE_KEYS = {
  partitionKey: 'task_id',
  byStatus: { name: 'by-status', partitionKey: 'status', sortKey: 'created_at' },
  byAgentType: { name: 'by-agent-type', partitionKey: 'agent_type', sortKey: 'created_at' },
  byMonth: { name: 'by-month', partitionKey: 'created_month', sortKey: 'created_at' },
  ttlAttribute: 'expires_at',
} as const;

/** Index names and key attributes of the Agents table. */
export const AGENTS_TABLE_KEYS = {
  partitionKey: 'agent_id',
  byType: { name: 'by-type', partitionKey: 'type', sortKey: 'agent_id' },
  ttlAttribute: 'expires_at',
} as const;

/** The Idempotency-Key records of POST /tasks (Powertools idempotency's persistence layer). */
export const IDEMPOTENCY_TABLE_KEYS = { partitionKey: 'id', ttlAttribute: 'expiration' } as const;
