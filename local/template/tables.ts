/** The DynamoDB tables of a template, as CreateTable inputs. */
import type {
  CreateTableCommandInput,
  GlobalSecondaryIndex,
  KeySchemaElement,
  LocalSecondaryIndex,
  Projection,
} from '@aws-sdk/client-dynamodb';

import { type CfnTemplate, DEFAULT_ENV, isRecord, pickResolved, recordsOf, scalar } from './cfn-template';

export interface TemplateTable {
  logicalId: string;
  input: CreateTableCommandInput;
}

/** A global or local secondary index: its name, keys and projection. */
function secondaryIndex(index: Record<string, unknown>): GlobalSecondaryIndex & LocalSecondaryIndex {
  return { IndexName: scalar(index.IndexName), KeySchema: keySchema(index.KeySchema), Projection: projection(index.Projection) };
}

function keySchema(value: unknown): KeySchemaElement[] {
  if (!Array.isArray(value)) throw new Error('KeySchema must be a list');
  return recordsOf(value).map((k) => ({ AttributeName: scalar(k.AttributeName), KeyType: k.KeyType as KeySchemaElement['KeyType'] }));
}

function projection(value: unknown): Projection {
  const p = isRecord(value) ? value : {};
  return {
    ProjectionType: (p.ProjectionType ?? 'ALL') as Projection['ProjectionType'],
    ...(Array.isArray(p.NonKeyAttributes) ? { NonKeyAttributes: (p.NonKeyAttributes as unknown[]).map(scalar) } : {}),
  };
}

/**
 * CreateTable inputs for every DynamoDB table in the template, on demand, named by logical id.
 * Time to live, streams, point-in-time recovery and replicas are left out: the local store has none.
 */
export function tablesFromTemplate(template: CfnTemplate): TemplateTable[] {
  const tables: TemplateTable[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::DynamoDB::Table' && resource.Type !== 'AWS::DynamoDB::GlobalTable') continue;
    const properties = pickResolved(
      resource.Properties,
      ['KeySchema', 'AttributeDefinitions', 'GlobalSecondaryIndexes', 'LocalSecondaryIndexes'],
      template,
      DEFAULT_ENV,
    );
    const input: CreateTableCommandInput = {
      TableName: logicalId,
      KeySchema: keySchema(properties.KeySchema),
      AttributeDefinitions: recordsOf(properties.AttributeDefinitions).map((a) => ({
        AttributeName: scalar(a.AttributeName),
        AttributeType: a.AttributeType as 'S' | 'N' | 'B',
      })),
      BillingMode: 'PAY_PER_REQUEST',
    };
    const gsis: GlobalSecondaryIndex[] = recordsOf(properties.GlobalSecondaryIndexes).map(secondaryIndex);
    if (gsis.length > 0) input.GlobalSecondaryIndexes = gsis;
    const lsis: LocalSecondaryIndex[] = recordsOf(properties.LocalSecondaryIndexes).map(secondaryIndex);
    if (lsis.length > 0) input.LocalSecondaryIndexes = lsis;
    tables.push({ logicalId, input });
  }
  return tables;
}
