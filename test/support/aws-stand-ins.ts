/**
 * Stand-ins for the two AWS services the CLI calls (CloudFormation DescribeStacks, CloudWatch
 * GetMetricData): real HTTP servers on 127.0.0.1 that record each request and answer what the SDK
 * parses. The CLI reaches them with AWS_ENDPOINT_URL_CLOUDFORMATION and
 * AWS_ENDPOINT_URL_CLOUDWATCH.
 */
import { createServer } from 'node:http';
import { listen } from '../../local/stand-ins/listen';

/** A CloudFormation stand-in answering DescribeStacks (the Query protocol) with one stack whose ApiUrl is `apiUrl`. */
export async function startCloudFormation(stackName: string, apiUrl: string) {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => void (body += c.toString('utf8')));
    req.on('end', () => {
      requests.push(body);
      const asked = new URLSearchParams(body).get('StackName');
      res.setHeader('content-type', 'text/xml');
      if (asked !== stackName) {
        res.statusCode = 400;
        return res.end(
          `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${asked} does not exist</Message></Error><RequestId>r1</RequestId></ErrorResponse>`,
        );
      }
      res.end(
        `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>` +
          `<StackName>${stackName}</StackName><StackId>arn:aws:cloudformation:eu-west-1:123456789012:stack/${stackName}/1</StackId>` +
          `<CreationTime>2026-12-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>` +
          `<member><OutputKey>ExpressStateMachineArn</OutputKey><OutputValue>arn:x</OutputValue></member>` +
          `<member><OutputKey>ApiUrl</OutputKey><OutputValue>${apiUrl}</OutputValue></member>` +
          `</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></DescribeStacksResponse>`,
      );
    });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface MetricAnswer {
  id: string;
  points: Array<[string, number]>;
}

/**
 * A CloudWatch stand-in answering GetMetricData in the protocol the SDK speaks to it (AWS JSON 1.0,
 * query-compatible): `answer` gets the request and returns the results, or an error code
 * (AccessDenied) that it answers as CloudWatch does, with HTTP 403.
 */
export async function startCloudWatch(answer: (request: Record<string, unknown>) => MetricAnswer[] | { error: string; message: string }) {
  const requests: Array<{ target: string; body: Record<string, unknown> }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => void (body += c.toString('utf8')));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const parsed = JSON.parse(body || '{}') as Record<string, unknown>;
      requests.push({ target, body: parsed });
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      const result =
        target === 'GraniteServiceVersion20100801.GetMetricData'
          ? answer(parsed)
          : { error: 'InvalidAction', message: `no ${target} here` };
      if ('error' in result) {
        res.statusCode = result.error === 'AccessDenied' ? 403 : 400;
        res.setHeader('x-amzn-query-error', `${result.error};Sender`);
        return res.end(JSON.stringify({ __type: `com.amazonaws.cloudwatch#${result.error}`, message: result.message }));
      }
      res.end(
        JSON.stringify({
          MetricDataResults: result.map((r) => ({
            Id: r.id,
            Label: r.id,
            StatusCode: 'Complete',
            Timestamps: r.points.map(([t]) => Date.parse(t) / 1000),
            Values: r.points.map(([, v]) => v),
          })),
          Messages: [],
        }),
      );
    });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
