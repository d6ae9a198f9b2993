import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { CfnStage, HttpApi, HttpMethod, HttpNoneAuthorizer, type IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { API_ROUTES, type ApiFunction } from '../../functions/api/routes';

export type ApiAuth = { kind: 'iam' } | { kind: 'jwt'; issuer: string; audience: string[] };

/** How long API Gateway waits for a function (an HTTP API allows at most 30 s): what bounds GET /tasks/{id}?wait=N. */
export const API_INTEGRATION_TIMEOUT_SECONDS = 29;

export interface OrchestratorApiProps {
  readonly functions: Record<ApiFunction, IFunction>;
  readonly auth: ApiAuth;
  /** Steady-state requests per second across the API, and the burst above it. */
  readonly throttle: { rateLimit: number; burstLimit: number };
  readonly logRetention: logs.RetentionDays;
}

/** The HTTP API: one route per entry of functions/api/routes.ts, all authenticated but GET /health. */
export class OrchestratorApi extends Construct {
  readonly api: HttpApi;

  constructor(scope: Construct, id: string, props: OrchestratorApiProps) {
    super(scope, id);
    const authorizer: IHttpRouteAuthorizer =
      props.auth.kind === 'jwt'
        ? new HttpJwtAuthorizer('Jwt', props.auth.issuer, {
            jwtAudience: props.auth.audience,
            identitySource: ['$request.header.Authorization'],
          })
        : new HttpIamAuthorizer();
    this.api = new HttpApi(this, 'Api', {
      description: 'OptiInfra Orchestrator: task router for agents',
      defaultAuthorizer: authorizer,
      createDefaultStage: true,
    });

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const stage = this.api.defaultStage!.node.defaultChild as CfnStage;
    stage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        caller: '$context.identity.caller',
        user: '$context.identity.user',
        principal: '$context.authorizer.principalId',
        routeKey: '$context.routeKey',
        status: '$context.status',
        latencyMs: '$context.responseLatency',
        integrationLatencyMs: '$context.integrationLatency',
        responseLength: '$context.responseLength',
        error: '$context.error.message',
        integrationError: '$context.integrationErrorMessage',
      }),
    };
    stage.defaultRouteSettings = {
      throttlingRateLimit: props.throttle.rateLimit,
      throttlingBurstLimit: props.throttle.burstLimit,
      detailedMetricsEnabled: true,
    };

    const integrations = new Map<ApiFunction, HttpLambdaIntegration>();
    for (const route of API_ROUTES) {
      let integration = integrations.get(route.fn);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${route.fn}Integration`, props.functions[route.fn], {
          timeout: Duration.seconds(API_INTEGRATION_TIMEOUT_SECONDS),
        });
        integrations.set(route.fn, integration);
      }
      this.api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration,
        ...(route.public ? { authorizer: new HttpNoneAuthorizer() } : {}),
      });
    }
  }
}
