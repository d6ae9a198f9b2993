/**
 * A Secrets Manager stand-in on 127.0.0.1: GetSecretValue over the AWS JSON protocol, the one call
 * the functions make (Powertools parameters reading the fleet tokens). A secret is found by its ARN
 * or its name, as Secrets Manager does; anything else answers as Secrets Manager would.
 */
import http from 'node:http';
import { listen } from './listen';

export interface LocalSecret {
  arn: string;
  name: string;
  value: string;
}

export interface SecretsManagerStandIn {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

const JSON_TYPE = 'application/x-amz-json-1.1';

function answer(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': JSON_TYPE });
  res.end(JSON.stringify(body));
}

export async function startSecretsManager(secrets: readonly LocalSecret[], port = 0): Promise<SecretsManagerStandIn> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target !== 'secretsmanager.GetSecretValue')
        return answer(res, 400, { __type: 'UnknownOperationException', message: `${target || 'no operation'} is not served locally` });
      let secretId: unknown;
      try {
        secretId = (JSON.parse(body || '{}') as { SecretId?: unknown }).SecretId;
      } catch {
        return answer(res, 400, { __type: 'SerializationException', message: 'the request body is not JSON' });
      }
      const secret = secrets.find((s) => s.arn === secretId || s.name === secretId);
      if (!secret)
        return answer(res, 400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
      answer(res, 200, {
        ARN: secret.arn,
        Name: secret.name,
        SecretString: secret.value,
        VersionId: '00000000-0000-4000-8000-000000000001',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 0,
      });
    });
  });
  const bound = await listen(server, port);
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    port: bound,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
