export type { CallOptions, ClientOptions, RunOptions, SubmitOptions, WaitOptions } from './client-options.js';
export { CLIENT_DEFAULTS } from './client-options.js';
export { type ApiEndpoint, apiEndpoint, CLIENT_VERSION, createClient, type OptiinfraClient } from './create-client.js';
export {
  ApiError,
  type ApiErrorDetail,
  ConfigurationError,
  NetworkError,
  OptiinfraError,
  TimeoutError,
  unreachableMessage,
} from './errors.js';
export type { AwsCredentials, AwsCredentialsProvider, RequestSigner, SignableRequest } from './sigv4-signer.js';
export type {
  AgentPage,
  CancelTaskResponse,
  ListAgentsOptions,
  ListTasksOptions,
  SubmitTaskInput,
  TaskListItem,
  TaskPage,
} from './wire-types.js';
