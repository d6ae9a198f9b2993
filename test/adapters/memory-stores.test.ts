/**
 * The store contracts on the in-memory stores the use-case tests run on (MemoryTaskStore,
 * MemoryAgentStore): dynamo-stores.test.ts runs the same suites on DynamoDB (dynalite), so a
 * use case that passes on these would pass on the tables.
 */
import { MemoryAgentStore } from '../../functions/adapters/memory-agent-store';
import { MemoryTaskStore } from '../../functions/adapters/memory-task-store';
import { describeAgentStoreContract } from './agent-store-contract';
import { describeTaskStoreContract } from './task-store-contract';

describeTaskStoreContract({ name: 'MemoryTaskStore', make: async (clock) => new MemoryTaskStore(clock) });
describeAgentStoreContract({ name: 'MemoryAgentStore', make: async () => new MemoryAgentStore() });
