/** The OptiInfra agent SDK: write an agent the orchestrator can register, route to, and sign deliveries for. */
export { Agent } from './agent.js';
export type { AgentLogger } from './agent-logger.js';
export { AGENT_DEFAULTS, type AgentOptions, type RegistrationRetryOptions } from './agent-options.js';
export {
  AgentAbortedError,
  AgentConfigError,
  AgentError,
  NonRetryableTaskError,
  OrchestratorUnreachableError,
  RegistrationError,
} from './errors.js';
export type { ReportEvent, ReportOutcome, ReportRetryOptions } from './attempt-channel.js';
export type { HandlerOptions, TaskContext, TaskHandler } from './task-context.js';
