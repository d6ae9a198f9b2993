/**
 * For each function of a template that runs in a VPC: the AWS services its role lets it call, and
 * whether the template gives its subnets a way to reach each one. In isolated subnets a call to a
 * service without a route hangs until the function times out, which no synthesis notices. The
 * template tests fail on such a service, and the local runtime refuses those calls the same way.
 */
import { type CfnTemplate, DEFAULT_ENV, isRecord, recordsOf, resolveIntrinsics, scalar } from './cfn-template';

export interface VpcFunctionRoutes {
  logicalId: string;
  /** The IAM service prefixes (dynamodb, sqs, states, secretsmanager, xray...) the role lets the function's own code call. */
  services: string[];
  /** 'all' through a NAT gateway on every subnet, else the services an endpoint serves to every subnet. */
  reachable: 'all' | string[];
  /** Services the role grants that nothing routes: each call to them would hang. */
  unrouted: string[];
}

/**
 * AWS managed policies a function's role may carry, and the services they let the function's own
 * code call. The Lambda service itself uses the first two (it writes the logs, it makes the network
 * interfaces), outside the VPC: they need no route. A managed policy missing here fails the check.
 */
export const MANAGED_POLICY_SERVICES: Readonly<Record<string, readonly string[]>> = {
  AWSLambdaBasicExecutionRole: [],
  AWSLambdaVPCAccessExecutionRole: [],
  AWSXRayDaemonWriteAccess: ['xray'],
};

/** The logical id a Ref, Fn::GetAtt or (through the exporting stack's output) Fn::ImportValue points at; undefined for a literal. */
export function targetOf(value: unknown, template: CfnTemplate): string | undefined {
  if (!isRecord(value)) return undefined;
  if (typeof value.Ref === 'string') return value.Ref;
  const att = value['Fn::GetAtt'];
  if (Array.isArray(att) && typeof att[0] === 'string') return att[0];
  if (typeof att === 'string') return att.split('.')[0];
  if ('Fn::ImportValue' in value) {
    const name = value['Fn::ImportValue'];
    const exported = Object.values(template.Outputs ?? {}).find((o) => o.Export?.Name === name);
    return exported ? targetOf(exported.Value, template) : undefined;
  }
  return undefined;
}

function resourcesOfType(template: CfnTemplate, type: string): Array<[string, Record<string, unknown>]> {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => [id, r.Properties ?? {}]);
}

const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/** The role of a function (Role) or a state machine (RoleArn) of the template. */
export function roleOf(template: CfnTemplate, logicalId: string): string {
  const properties = template.Resources[logicalId]?.Properties ?? {};
  const roleId = targetOf(properties.Role ?? properties.RoleArn, template);
  if (!roleId || template.Resources[roleId]?.Type !== 'AWS::IAM::Role')
    throw new Error(`${logicalId} has no role of the template: its grants cannot be checked`);
  return roleId;
}

/** The role's inline policies (its Policies and every AWS::IAM::Policy attached to it), unresolved, by name. */
export function inlinePolicies(template: CfnTemplate, roleId: string): Array<{ name: string; document: Record<string, unknown> }> {
  const role = template.Resources[roleId];
  const policies = recordsOf(role?.Properties?.Policies).map((p) => ({ name: scalar(p.PolicyName), document: p.PolicyDocument }));
  for (const [id, policy] of resourcesOfType(template, 'AWS::IAM::Policy'))
    if (listOf(policy.Roles).some((r) => targetOf(r, template) === roleId)) policies.push({ name: id, document: policy.PolicyDocument });
  return policies.map((p) => ({ name: p.name, document: isRecord(p.document) ? p.document : {} }));
}

/** The names of the AWS managed policies attached to the role. */
export function managedPolicies(template: CfnTemplate, roleId: string): string[] {
  return listOf(template.Resources[roleId]?.Properties?.ManagedPolicyArns).map(
    (arn) =>
      scalar(resolveIntrinsics(arn, template, DEFAULT_ENV))
        .split('/')
        .pop() ?? '',
  );
}

/** The IAM service prefixes of every action the role's inline and attached policies allow. */
export function roleServices(template: CfnTemplate, roleId: string): string[] {
  if (template.Resources[roleId]?.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is not a role of the template`);
  const services = new Set<string>();
  for (const { document } of inlinePolicies(template, roleId))
    for (const statement of recordsOf(document.Statement)) {
      if (statement.Effect !== 'Allow') continue;
      for (const action of listOf(statement.Action).map(scalar)) {
        if (action === '*') throw new Error(`role ${roleId} may call every action ('*'): no network can be checked for that`);
        services.add(action.split(':')[0]!.toLowerCase());
      }
    }
  for (const name of managedPolicies(template, roleId)) {
    const granted = MANAGED_POLICY_SERVICES[name];
    if (!granted)
      throw new Error(`role ${roleId} has the managed policy ${name}: add the services it lets a function call to MANAGED_POLICY_SERVICES`);
    for (const service of granted) services.add(service);
  }
  return [...services].sort();
}

/** The service an endpoint serves, from its ServiceName (com.amazonaws.<region>.<service>). */
function endpointService(properties: Record<string, unknown>, template: CfnTemplate): string {
  const name = scalar(resolveIntrinsics(properties.ServiceName, template, DEFAULT_ENV));
  return name.replace(/^com\.amazonaws\.[^.]+\./, '');
}

/** Whether an ingress rule lets one of `groups` (security group logical ids) reach `group` on HTTPS. */
function admitsHttps(template: CfnTemplate, group: string, groups: Set<string>): boolean {
  const covers443 = (rule: Record<string, unknown>) =>
    (rule.IpProtocol === '-1' || rule.IpProtocol === 'tcp') && Number(rule.FromPort ?? 0) <= 443 && Number(rule.ToPort ?? 65535) >= 443;
  const fromUs = (rule: Record<string, unknown>) =>
    groups.has(targetOf(rule.SourceSecurityGroupId, template) ?? '') || rule.CidrIp !== undefined;
  const inline = recordsOf(template.Resources[group]?.Properties?.SecurityGroupIngress);
  const separate = resourcesOfType(template, 'AWS::EC2::SecurityGroupIngress')
    .map(([, r]) => r)
    .filter((r) => targetOf(r.GroupId, template) === group);
  return [...inline, ...separate].some((rule) => covers443(rule) && fromUs(rule));
}

/** What the template routes from all of `subnets` for functions in `groups`: 'all' (NAT), or the services with an endpoint. */
function reachableFrom(template: CfnTemplate, subnets: string[], groups: Set<string>): 'all' | string[] {
  const tableOf = new Map(
    resourcesOfType(template, 'AWS::EC2::SubnetRouteTableAssociation').map(([, a]) => [
      targetOf(a.SubnetId, template),
      targetOf(a.RouteTableId, template),
    ]),
  );
  const tables = subnets.map((s) => tableOf.get(s));
  if (subnets.length === 0 || tables.some((t) => t === undefined)) return [];
  const natTables = new Set(
    resourcesOfType(template, 'AWS::EC2::Route')
      .filter(([, r]) => r.NatGatewayId !== undefined && r.DestinationCidrBlock === '0.0.0.0/0')
      .map(([, r]) => targetOf(r.RouteTableId, template)),
  );
  if (tables.every((t) => natTables.has(t))) return 'all';
  const vpcs = new Set(subnets.map((s) => targetOf(template.Resources[s]?.Properties?.VpcId, template)));
  const services = new Set<string>();
  for (const [, endpoint] of resourcesOfType(template, 'AWS::EC2::VPCEndpoint')) {
    if (endpoint.VpcEndpointType === 'Gateway') {
      const routed = new Set(listOf(endpoint.RouteTableIds).map((t) => targetOf(t, template)));
      if (tables.every((t) => routed.has(t))) services.add(endpointService(endpoint, template));
    } else if (endpoint.VpcEndpointType === 'Interface' && endpoint.PrivateDnsEnabled === true) {
      const sameVpc = vpcs.size === 1 && vpcs.has(targetOf(endpoint.VpcId, template));
      const open = listOf(endpoint.SecurityGroupIds).some((g) => admitsHttps(template, targetOf(g, template) ?? '', groups));
      if (sameVpc && open) services.add(endpointService(endpoint, template));
    }
  }
  return [...services].sort();
}

/** Every function with a VpcConfig, what its role lets it call, and what of that the template routes. */
export function vpcFunctionRoutes(template: CfnTemplate): VpcFunctionRoutes[] {
  const routes: VpcFunctionRoutes[] = [];
  for (const [logicalId, fn] of resourcesOfType(template, 'AWS::Lambda::Function')) {
    const vpc = isRecord(fn.VpcConfig) ? fn.VpcConfig : undefined;
    if (!vpc) continue;
    const services = roleServices(template, roleOf(template, logicalId));
    // Subnets of a reused VPC are literal ids: the template shows no route for them (docs/deployment.md lists what they need).
    const subnets = listOf(vpc.SubnetIds).map((s) => targetOf(s, template));
    const groups = new Set(listOf(vpc.SecurityGroupIds).map((g) => targetOf(g, template) ?? ''));
    const reachable = subnets.every((s) => s !== undefined) ? reachableFrom(template, subnets, groups) : [];
    const unrouted = reachable === 'all' ? [] : services.filter((s) => !reachable.includes(s));
    routes.push({ logicalId, services, reachable, unrouted });
  }
  return routes;
}
