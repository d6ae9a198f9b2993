import { Names } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import { Construct } from 'constructs';
import type { OrchestratorNetwork } from './network';

export interface ValkeyCacheProps {
  readonly network: OrchestratorNetwork;
  /** Upper bound on stored data, to cap cost. */
  readonly maxDataGb: number;
}

/**
 * ElastiCache Serverless (Valkey): hot task results, agent liveness, in-flight leases and the
 * priority queue of waiting tasks. Always TLS; reachable only from the functions' security group.
 * Losing it loses no task: DynamoDB is the source of truth.
 */
export class ValkeyCache extends Construct {
  readonly cache: elasticache.CfnServerlessCache;
  readonly securityGroup: ec2.SecurityGroup;
  /** rediss:// URL for the functions' CACHE_URL. */
  readonly url: string;
  /** The reader endpoint as host:port, never an agent (DENIED_AGENT_TARGETS; CACHE_URL's own is denied by the functions). */
  readonly readerTarget: string;

  constructor(scope: Construct, id: string, props: ValkeyCacheProps) {
    super(scope, id);
    const { network } = props;
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: network.vpc,
      description: 'Task cache: Valkey over TLS from the orchestrator functions only',
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(
      network.functionsSecurityGroup,
      ec2.Port.tcpRange(6379, 6380),
      'Valkey (TLS) from the orchestrator functions',
    );
    this.cache = new elasticache.CfnServerlessCache(this, 'Cache', {
      // CloudFormation requires a name here; derive it from the construct path rather than hard-code one.
      serverlessCacheName: Names.uniqueResourceName(this, { maxLength: 40, separator: '-' }).toLowerCase(),
      engine: 'valkey',
      majorEngineVersion: '8',
      description: 'OptiInfra orchestrator: hot task state',
      securityGroupIds: [this.securityGroup.securityGroupId],
      subnetIds: network.vpc.selectSubnets(network.subnets).subnetIds,
      cacheUsageLimits: { dataStorage: { maximum: props.maxDataGb, unit: 'GB' } },
    });
    this.url = `rediss://${this.cache.attrEndpointAddress}:${this.cache.attrEndpointPort}`;
    this.readerTarget = `${this.cache.attrReaderEndpointAddress}:${this.cache.attrReaderEndpointPort}`;
  }
}
