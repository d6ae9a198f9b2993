import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface OrchestratorNetworkProps {
  /** A VPC to reuse (where the agents live); a new one is made when absent. */
  readonly vpc?: ec2.IVpc;
  /**
   * Whether agents may be outside the VPC (public addresses). Only then do the functions in the VPC
   * need a NAT gateway; otherwise the subnets stay isolated and AWS calls go through endpoints.
   */
  readonly agentsOutsideVpc: boolean;
  /** Create the DynamoDB gateway endpoint and the SQS / Step Functions interface endpoints. Turn off if a reused VPC has them. */
  readonly createEndpoints: boolean;
  readonly logRetention: logs.RetentionDays;
}

/** The VPC the cache lives in, the functions that use the cache run in, and agents are reached from. */
export class OrchestratorNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** Attached to the functions that run in the VPC. */
  readonly functionsSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: OrchestratorNetworkProps) {
    super(scope, id);
    if (props.vpc) {
      this.vpc = props.vpc;
    } else {
      const vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: props.agentsOutsideVpc ? 1 : 0,
        subnetConfiguration: props.agentsOutsideVpc
          ? [
              { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
              { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
            ]
          : [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 }],
      });
      const flowLogs = new logs.LogGroup(this, 'FlowLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
      vpc.addFlowLog('FlowLog', {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
        trafficType: ec2.FlowLogTrafficType.REJECT,
      });
      this.vpc = vpc;
    }
    this.subnets = { subnetType: props.agentsOutsideVpc ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED };
    if (props.vpc) this.subnets = { subnets: props.vpc.privateSubnets.length ? props.vpc.privateSubnets : props.vpc.isolatedSubnets };

    this.functionsSecurityGroup = new ec2.SecurityGroup(this, 'Functions', {
      vpc: this.vpc,
      description: 'Orchestrator functions that use the cache and call agents',
      allowAllOutbound: true,
    });

    if (props.createEndpoints) {
      this.vpc.addGatewayEndpoint('DynamoDb', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB, subnets: [this.subnets] });
      const endpoints = new ec2.SecurityGroup(this, 'Endpoints', {
        vpc: this.vpc,
        description: 'Interface endpoints, reachable from the orchestrator functions',
        allowAllOutbound: false,
      });
      endpoints.addIngressRule(this.functionsSecurityGroup, ec2.Port.tcp(443), 'HTTPS from the orchestrator functions');
      for (const [name, service] of [
        ['Sqs', ec2.InterfaceVpcEndpointAwsService.SQS],
        ['StepFunctions', ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS],
      ] as const) {
        this.vpc.addInterfaceEndpoint(name, { service, subnets: this.subnets, securityGroups: [endpoints], privateDnsEnabled: true });
      }
    }
  }
}
