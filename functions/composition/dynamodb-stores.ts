/** The DynamoDB client and the stores on it: tasks, agents, and the registry the dispatcher routes with. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CachingAgentStore } from '../adapters/caching-agent-store';
import { DynamoAgentStore } from '../adapters/dynamo-agent-store';
import { DynamoCallbackStore } from '../adapters/dynamo-callback-store';
import { DynamoTaskStore } from '../adapters/dynamo-task-store';
import { hooked } from './aws-client-hook';
import { config, once } from './composition-root';
import { required } from './config';

export const dynamo = once(() => hooked(new DynamoDBClient({})));
const doc = once(() =>
  DynamoDBDocumentClient.from(dynamo(), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  }),
);

export const tasks = once(() => new DynamoTaskStore(doc(), required(config, 'TASKS_TABLE')));
/** The callback fields of the same task items, for the starter and the reconciler. */
export const callbacks = once(() => new DynamoCallbackStore(doc(), required(config, 'TASKS_TABLE')));
export const agents = once(() => new DynamoAgentStore(doc(), required(config, 'AGENTS_TABLE')));
/** The dispatcher routes with the registry of a type kept for REGISTRY_CACHE_SECONDS. */
export const routingAgents = once(() => new CachingAgentStore(agents(), config.settings.registryCacheSeconds));
