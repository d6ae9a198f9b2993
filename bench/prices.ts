/**
 * Every price `npm run cost` uses, in one place: us-east-1 list prices in USD, without free tier,
 * each with the page it comes from and the day it was read. Change a price here and nowhere else.
 */
export interface Price {
  usd: number;
  per: string;
  source: string;
  /** The day the figure was taken from the source. */
  read: string;
}

const READ = '2026-12-01';

export const PRICES = {
  lambdaRequest: { usd: 0.2 / 1e6, per: 'request', source: 'https://aws.amazon.com/lambda/pricing/', read: READ },
  lambdaArmGbSecond: { usd: 0.0000133334, per: 'GB-second (arm64)', source: 'https://aws.amazon.com/lambda/pricing/', read: READ },
  sfnStandardTransition: {
    usd: 0.025 / 1000,
    per: 'state transition',
    source: 'https://aws.amazon.com/step-functions/pricing/',
    read: READ,
  },
  sfnExpressRequest: { usd: 1 / 1e6, per: 'Express execution', source: 'https://aws.amazon.com/step-functions/pricing/', read: READ },
  sfnExpressGbSecond: {
    usd: 0.00001667,
    per: 'Express GB-second (64 MB, 100 ms steps)',
    source: 'https://aws.amazon.com/step-functions/pricing/',
    read: READ,
  },
  dynamoWriteUnit: {
    usd: 0.625 / 1e6,
    per: 'write request unit (on demand)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    read: READ,
  },
  dynamoReadUnit: {
    usd: 0.125 / 1e6,
    per: 'read request unit (on demand)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    read: READ,
  },
  apiRequest: { usd: 1 / 1e6, per: 'HTTP API request (512 KB step)', source: 'https://aws.amazon.com/api-gateway/pricing/', read: READ },
  sqsRequest: { usd: 0.4 / 1e6, per: 'SQS standard request (64 KB step)', source: 'https://aws.amazon.com/sqs/pricing/', read: READ },
  logsIngestedGb: { usd: 0.5, per: 'GB of CloudWatch Logs ingested', source: 'https://aws.amazon.com/cloudwatch/pricing/', read: READ },
  cacheEcpu: {
    usd: 0.0023 / 1e6,
    per: 'ElastiCache Serverless Valkey ECPU',
    source: 'https://aws.amazon.com/elasticache/pricing/',
    read: READ,
  },
  cacheGbHour: {
    usd: 0.084,
    per: 'ElastiCache Serverless Valkey GB-hour stored',
    source: 'https://aws.amazon.com/elasticache/pricing/',
    read: READ,
  },
} as const satisfies Record<string, Price>;

/** Express executions are billed in 64 MB memory steps and 100 ms duration steps. */
export const EXPRESS_BILLED_MB = 64;
export const EXPRESS_DURATION_STEP_MS = 100;
