import { execFileSync } from 'node:child_process';
import type { RecordedRequest } from './recording-server';

/**
 * Recomputes a recorded request's SigV4 signature with botocore, AWS's Python implementation: the
 * request as the server received it, the headers the signature says it covers, the same time and keys.
 */
const SCRIPT = `
import json, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
r = json.load(sys.stdin)
auth = r['headers']['authorization']
fields = dict(part.strip().split('=', 1) for part in auth[len('AWS4-HMAC-SHA256 '):].split(','))
_, date, region, service, _ = fields['Credential'].split('/')
signed = fields['SignedHeaders'].split(';')
request = AWSRequest(method=r['method'], url=r['base'] + r['url'], data=r['body'].encode() if r['body'] else None,
                     headers={h: r['headers'][h] for h in signed})
request.context['timestamp'] = r['headers']['x-amz-date']
signer = SigV4Auth(Credentials(r['key'], r['secret'], r['headers'].get('x-amz-security-token')), service, region)
canonical = signer.canonical_request(request)
print(json.dumps({'signature': signer.signature(signer.string_to_sign(request, canonical), request), 'region': region, 'service': service, 'signed': signed, 'given': fields['Signature']}))
`;

export interface BotocoreCheck {
  /** The signature botocore computes. */
  signature: string;
  /** The signature the request carried. */
  given: string;
  region: string;
  service: string;
  signed: string[];
}

/** The SigV4 signature of a request recorded at `baseUrl`, recomputed by botocore with these keys. */
export function botocoreSignature(
  baseUrl: string,
  request: RecordedRequest,
  keys: { accessKeyId: string; secretAccessKey: string },
): BotocoreCheck {
  const input = JSON.stringify({ ...request, base: baseUrl, key: keys.accessKeyId, secret: keys.secretAccessKey });
  const out = execFileSync('python3', ['-c', SCRIPT], { input, encoding: 'utf8' });
  return JSON.parse(out) as BotocoreCheck;
}
