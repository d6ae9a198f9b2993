/**
 * Idempotent submit (the `Idempotency-Key` header of POST /tasks) on Powertools idempotency with its
 * DynamoDB persistence layer: the first request with a key runs and its answer is kept for 24 h; a
 * repeat with the same body gets that answer again; a different body with the same key is refused.
 */
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { ConflictError, UnprocessableError } from '@optiinfra/contract';
import type { InvocationContext, SubmitIdempotency } from '../core/ports';
import { IDEMPOTENCY_TABLE_KEYS } from '../core/table-keys';

export const IDEMPOTENCY_WINDOW_SECONDS = 86_400;

export class PowertoolsSubmitIdempotency implements SubmitIdempotency {
  private readonly store: DynamoDBPersistenceLayer;

  constructor(tableName: string, client: DynamoDBClient) {
    this.store = new DynamoDBPersistenceLayer({
      tableName,
      awsSdkV3Client: client,
      keyAttr: IDEMPOTENCY_TABLE_KEYS.partitionKey,
      expiryAttr: IDEMPOTENCY_TABLE_KEYS.ttlAttribute,
    });
  }

  async run<T extends object>(key: string, payload: unknown, context: InvocationContext | undefined, submit: () => Promise<T>): Promise<T> {
    const config = new IdempotencyConfig({
      eventKeyJmesPath: 'key',
      payloadValidationJmesPath: 'payload',
      expiresAfterSeconds: IDEMPOTENCY_WINDOW_SECONDS,
    });
    // Powertools reads only the remaining time of the Lambda context it is given.
    if (context) config.registerLambdaContext(context as Context);
    const once = makeIdempotent(async (_request: { key: string; payload: unknown }) => submit(), { persistenceStore: this.store, config });
    try {
      return await once({ key, payload });
    } catch (err) {
      const shown = key.slice(key.indexOf(':') + 1);
      if (err instanceof IdempotencyValidationError) {
        throw new UnprocessableError(
          `Idempotency-Key "${shown}" was already used in the last 24 h with a different body; send the original body to get its task again, or use a new key for a new task`,
          'idempotency_key_reused',
        );
      }
      if (err instanceof IdempotencyAlreadyInProgressError) {
        throw new ConflictError(
          `a request with Idempotency-Key "${shown}" is still being handled; retry in a moment to get its task`,
          'idempotency_key_in_progress',
        );
      }
      throw err;
    }
  }
}
