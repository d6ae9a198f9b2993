/** POST /tasks with an Idempotency-Key: only the tasks API uses it. */
import { PowertoolsSubmitIdempotency } from '../adapters/submit-idempotency';
import { config, once } from './composition-root';
import { required } from './config';
import { dynamo } from './dynamodb-stores';

export const submitIdempotency = once(() => new PowertoolsSubmitIdempotency(required(config, 'IDEMPOTENCY_TABLE'), dynamo()));
