import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AGENTS_TABLE_KEYS, IDEMPOTENCY_TABLE_KEYS, TASKS_TABLE_KEYS } from '../../functions/core/table-keys';

const TASK_INDEXES = [TASKS_TABLE_KEYS.open.name, TASKS_TABLE_KEYS.finished.name];
const AGENT_INDEXES = [AGENTS_TABLE_KEYS.byType.name];

/**
 * The source of truth: tasks and the agent registry, on demand, with point-in-time recovery and TTL.
 * The task indexes are sparse and write-sharded (functions/core/table-keys.ts): a task is in `open`
 * from submit to its terminal write, then in `finished`. They project only attributes that never
 * change once written, so status changes in between write no index.
 */
export class TaskTables extends Construct {
  readonly tasks: dynamodb.Table;
  readonly agents: dynamodb.Table;
  /** Idempotency-Key records of POST /tasks (Powertools idempotency), kept 24 h. */
  readonly idempotency: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    };
    this.tasks = new dynamodb.Table(this, 'Tasks', {
      ...common,
      partitionKey: { name: TASKS_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: TASKS_TABLE_KEYS.ttlAttribute,
    });
    for (const index of [TASKS_TABLE_KEYS.open, TASKS_TABLE_KEYS.finished]) {
      this.tasks.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.INCLUDE,
        nonKeyAttributes: [...index.include],
      });
    }
    this.agents = new dynamodb.Table(this, 'Agents', {
      ...common,
      partitionKey: { name: AGENTS_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: AGENTS_TABLE_KEYS.ttlAttribute,
    });
    this.agents.addGlobalSecondaryIndex({
      indexName: AGENTS_TABLE_KEYS.byType.name,
      partitionKey: { name: AGENTS_TABLE_KEYS.byType.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: AGENTS_TABLE_KEYS.byType.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    // Short-lived by design: nothing here is worth a restore, so it goes with the stack.
    this.idempotency = new dynamodb.Table(this, 'Idempotency', {
      ...common,
      removalPolicy: RemovalPolicy.DESTROY,
      partitionKey: { name: IDEMPOTENCY_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: IDEMPOTENCY_TABLE_KEYS.ttlAttribute,
    });
  }

  grantIdempotencyReadWrite(grantee: IGrantable): void {
    this.grantOn(grantee, this.idempotency, [], ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']);
  }

  /** Grants `actions` on a table and on each of its indexes by name: no `index/*` wildcard. */
  private grantOn(grantee: IGrantable, table: dynamodb.Table, indexNames: readonly string[], actions: string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions, resources: [table.tableArn, ...indexNames.map((name) => `${table.tableArn}/index/${name}`)] }),
    );
  }

  /** Read and write tasks (the use cases never delete: TTL does). */
  grantTasksReadWrite(grantee: IGrantable): void {
    this.grantOn(grantee, this.tasks, TASK_INDEXES, [
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
  }

  grantTasksRead(grantee: IGrantable): void {
    this.grantOn(grantee, this.tasks, TASK_INDEXES, ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query']);
  }

  grantAgentsRead(grantee: IGrantable): void {
    this.grantOn(grantee, this.agents, AGENT_INDEXES, ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan']);
  }

  /** DeleteItem: a type's offers summary goes once its last capability does (dynamo-type-offers.ts). */
  grantAgentsReadWrite(grantee: IGrantable): void {
    this.grantOn(grantee, this.agents, AGENT_INDEXES, [
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    ]);
  }
}
