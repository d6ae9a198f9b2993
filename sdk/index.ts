/** The OptiInfra agent SDK: write an agent the orchestrator can register, route to, and sign deliveries for. */
export { Agent } from './agent';
export type { AgentLogger } from './agent-logger';
export { AGENT_DEFAULTS, type AgentOptions, type RegistrationRetryOptions } from './agent-options';
export {
  AgentAbortedError,
  AgentConfigError,
  AgentError,
  NonRetryableTaskError,
  OrchestratorUnreachableError,
  RegistrationError,
} from './errors';
export type { ReportEvent, ReportOutcome, ReportRetryOptions } from './attempt-channel';
export type { HandlerOptions, TaskContext, TaskHandler } from './task-context';
