import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { IntakeQueue } from './constructs/intake-queue';
import { OrchestratorNetwork } from './constructs/network';
import { ValkeyCache } from './constructs/valkey-cache';
import { TaskTables } from './constructs/task-tables';

export interface StatefulStackProps extends StackProps {
  readonly vpc?: ec2.IVpc;
  readonly agentsOutsideVpc: boolean;
  readonly createVpcEndpoints: boolean;
  readonly logRetention: logs.RetentionDays;
  readonly cacheMaxDataGb: number;
  /** The starter's timeout, which sets the intake queue's visibility timeout. */
  readonly starterTimeout: Duration;
  /** An existing SNS topic for alarms; one is created when absent. */
  readonly alarmTopicArn?: string;
}

/** What keeps data: tables, the intake queue, the cache and the network it lives in. Retained on delete. */
export class StatefulStack extends Stack {
  readonly network: OrchestratorNetwork;
  readonly tables: TaskTables;
  readonly intake: IntakeQueue;
  readonly cache: ValkeyCache;
  /** Where every alarm of the deployment notifies. */
  readonly alarmTopic: sns.ITopic;
  /**
   * The tokens that let an agent register, comma-separated (generated with one). To rotate: add
   * the new token after a comma, move the agents over, remove the old one. Read within a minute.
   */
  readonly fleetTokens: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    this.network = new OrchestratorNetwork(this, 'Network', {
      vpc: props.vpc,
      agentsOutsideVpc: props.agentsOutsideVpc,
      createEndpoints: props.createVpcEndpoints,
      logRetention: props.logRetention,
    });
    this.tables = new TaskTables(this, 'Tables');
    this.alarmTopic = props.alarmTopicArn
      ? sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn)
      : new sns.Topic(this, 'AlarmTopic', {
          displayName: 'OptiInfra orchestrator alarms',
          enforceSSL: true,
          masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
        });
    this.intake = new IntakeQueue(this, 'Intake', {
      consumerTimeout: props.starterTimeout,
      maxReceiveCount: 5,
      alarmTopic: this.alarmTopic,
    });
    this.cache = new ValkeyCache(this, 'Cache', { network: this.network, maxDataGb: props.cacheMaxDataGb });
    this.fleetTokens = new secretsmanager.Secret(this, 'FleetTokens', {
      description: 'OptiInfra orchestrator: comma-separated tokens an agent sends as X-Fleet-Token to register',
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
    });
    new CfnOutput(this, 'FleetTokensSecretArn', {
      value: this.fleetTokens.secretArn,
      description: 'Secret holding the comma-separated tokens agents send as X-Fleet-Token to register',
    });
  }
}
