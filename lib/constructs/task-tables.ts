import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AGENTS_TABLE_KEYS, IDEMPOTENCY_TABLE_KEYS, TASKS_TABLE_KEYS } from '../../functions/core/table-keys';

/** The item actions a function may be granted on a table. */
export type TableAction = 'GetItem' | 'BatchGetItem' | 'Query' | 'Scan' | 'PutItem' | 'UpdateItem' | 'DeleteItem';

const TASK_INDEXES = [TASKS_TABLE_KEYS.open.name, TASKS_TABLE_KEYS.finished.name, TASKS_TABLE_KEYS.callbacks.name];
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
    // Keys only: its sort key says when the callback is due, and the reconciler reads the task itself.
    this.tasks.addGlobalSecondaryIndex({
      indexName: TASKS_TABLE_KEYS.callbacks.name,
      partitionKey: { name: TASKS_TABLE_KEYS.callbacks.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TASKS_TABLE_KEYS.callbacks.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
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
    this.grantOn(grantee, this.idempotency, [], ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem']);
  }

  /** Grants `actions` on a table, and on each of its indexes by name (no `index/*` wildcard) when they include Query. */
  private grantOn(grantee: IGrantable, table: dynamodb.Table, indexNames: readonly string[], actions: readonly TableAction[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: actions.map((action) => `dynamodb:${action}`),
        resources: [table.tableArn, ...(actions.includes('Query') ? indexNames.map((name) => `${table.tableArn}/index/${name}`) : [])],
      }),
    );
  }

  /**
   * Each function is granted the item actions its use cases call, no more: test/iam evaluates every
   * call the integration runs make against these grants, and fails on a grant that no run uses and
   * no reason explains. Nothing deletes a task (TTL does).
   */
  grantTasks(grantee: IGrantable, ...actions: TableAction[]): void {
    this.grantOn(grantee, this.tasks, TASK_INDEXES, actions);
  }

  /** As grantTasks, on the registry (agents by id, by type through the index, a type's offers summary). */
  grantAgents(grantee: IGrantable, ...actions: TableAction[]): void {
    this.grantOn(grantee, this.agents, AGENT_INDEXES, actions);
  }
}
