/**
 * The wire contract between the dispatcher and an agent's POST /task (part of contract.ts, which
 * re-exports it). A module of its own on zod/mini, so the dispatcher, which parses nothing else,
 * loads neither zod's classic API nor the API's request schemas. English messages, as the classic
 * API sets them up: they end up in a task's error when an agent's answer does not parse.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { JSON_LIMITS } from './json-limits.js';

z.config(en());

/** Orchestrator → agent: POST http://{host}:{port}/task (seed TaskRequest). */
export const agentTaskRequestSchema = z.object({
  task_id: z.string(),
  task_type: z.string(),
  parameters: z._default(z.record(z.string(), z.unknown()), {}),
  timeout_seconds: z.number(),
  priority: z.number(),
  metadata: z._default(z.record(z.string(), z.unknown()), {}),
  /** For an agent that accepts (202) and reports later: its silence limit, and where to report. */
  heartbeat_timeout_seconds: z.optional(z.number()),
  report_url: z.optional(z.string()),
  progress_url: z.optional(z.string()),
});
export type AgentTaskRequest = z.infer<typeof agentTaskRequestSchema>;
/** The largest TaskRequest the orchestrator sends: its parameters and metadata at their limits, plus the fixed fields. */
export const AGENT_TASK_REQUEST_MAX_BYTES = JSON_LIMITS.parametersBytes + JSON_LIMITS.metadataBytes + 4_096;

/** Agent → orchestrator: the seed's TaskResponse. Lenient on extra fields: agents are written by others. */
export const agentTaskResponseSchema = z.object({
  task_id: z.optional(z.string()),
  status: z._default(z.enum(['completed', 'failed']), 'completed'),
  result: z.optional(z.unknown()),
  error: z.nullish(z.string()),
  execution_time_ms: z.optional(z.number()),
  metadata: z.nullish(z.record(z.string(), z.unknown())),
  /** With `status: "failed"`: `false` tells the orchestrator that another attempt cannot succeed. */
  retryable: z.nullish(z.boolean()),
});
export type AgentTaskResponse = z.infer<typeof agentTaskResponseSchema>;

/** Headers on every delivery to an agent (Standard Webhooks plus attempt, deadline and trace context). */
export const DELIVERY_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
  attempt: 'x-optiinfra-attempt',
  deadline: 'x-optiinfra-deadline',
  traceparent: 'traceparent',
} as const;
