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
  /**
   * Create the endpoints the functions in the VPC need (VPC_ENDPOINT_SERVICES). Turn off only if a
   * reused VPC already has them, or routes the functions' subnets through a NAT gateway.
   */
  readonly createEndpoints: boolean;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The AWS services the functions in the VPC call, besides the cache: DynamoDB (a gateway endpoint),
 * then the interface endpoints. Secrets Manager holds the fleet tokens the agents API reads on
 * registration; X-Ray receives the traces of the functions' active tracing. Without a route, a call
 * hangs until the function times out. test/infra/vpc-routes.test.ts derives what each function's
 * role may call from the template and fails on a service missing here.
 */
export const VPC_ENDPOINT_SERVICES = {
  gateway: { DynamoDb: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
  interface: {
    Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
    StepFunctions: ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
    SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    XRay: ec2.InterfaceVpcEndpointAwsService.XRAY,
  },
} as const;

/** The VPC the cache lives in, the functions that use the cache run in, and agents are reached from. */
export class OrchestratorNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** Attached to the functions that run in the VPC. */
  readonly functionsSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: OrchestratorNetworkProps) {
    super(scope, id);
    // A new VPC without NAT and without endpoints: the functions in it could reach no AWS service at all.
    if (!props.vpc && !props.agentsOutsideVpc && !props.createEndpoints)
      throw new Error(
        'createVpcEndpoints=false with allowPublicAgents=false needs a reused VPC (vpcId) that has the endpoints: a new isolated VPC has no other route to AWS',
      );
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
      for (const [name, service] of Object.entries(VPC_ENDPOINT_SERVICES.gateway))
        this.vpc.addGatewayEndpoint(name, { service, subnets: [this.subnets] });
      const endpoints = new ec2.SecurityGroup(this, 'Endpoints', {
        vpc: this.vpc,
        description: 'Interface endpoints, reachable from the orchestrator functions',
        allowAllOutbound: false,
      });
      endpoints.addIngressRule(this.functionsSecurityGroup, ec2.Port.tcp(443), 'HTTPS from the orchestrator functions');
      for (const [name, service] of Object.entries(VPC_ENDPOINT_SERVICES.interface)) {
        this.vpc.addInterfaceEndpoint(name, { service, subnets: this.subnets, securityGroups: [endpoints], privateDnsEnabled: true });
      }
    }
  }
}
