import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, publishStoredMetrics } from './observability';

/** The one middleware chain for non-HTTP triggers (SQS, Step Functions, schedules). */
export function eventHandler<E, R>(fn: (event: E, context: Context) => Promise<R>) {
  return middy(fn)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishStoredMetrics);
}
