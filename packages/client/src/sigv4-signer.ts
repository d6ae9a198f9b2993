import { ConfigurationError } from './errors.js';

/** AWS credentials, as the default credential chain or `fromIni()` and friends resolve them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

/** The parts of a request that a signature covers. */
export interface SignableRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

export interface RequestSigner {
  /** The request's headers with the signature's added (`authorization`, `x-amz-date`, `x-amz-security-token`, ...). */
  sign(request: SignableRequest): Promise<Record<string, string>>;
}

const EXECUTE_API_HOST = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

/** The region in an API Gateway URL (`https://abc123.execute-api.eu-west-1.amazonaws.com`), if it is one. */
export function regionOfApiUrl(url: URL): string | undefined {
  return EXECUTE_API_HOST.exec(url.hostname)?.[1];
}

/**
 * Signs for API Gateway (`execute-api`) with SigV4. The AWS modules are imported on the first
 * signature only, so a client that talks to the local runtime with a bearer token never loads them.
 */
export function sigv4Signer(options: { region: string; credentials?: AwsCredentials | AwsCredentialsProvider }): RequestSigner {
  type Signer = import('@smithy/signature-v4').SignatureV4;
  let loading: Promise<Signer> | undefined;
  const load = async (): Promise<Signer> => {
    const [{ SignatureV4 }, { Sha256 }] = await Promise.all([import('@smithy/signature-v4'), import('@aws-crypto/sha256-js')]);
    const credentials = options.credentials ?? (await import('@aws-sdk/credential-providers')).fromNodeProviderChain();
    return new SignatureV4({ service: 'execute-api', region: options.region, credentials, sha256: Sha256 });
  };
  return {
    async sign({ method, url, headers, body }) {
      loading ??= load();
      let signer: Signer;
      try {
        signer = await loading;
      } catch (err) {
        loading = undefined;
        throw err;
      }
      const query: Record<string, string> = {};
      for (const [key, value] of url.searchParams) query[key] = value;
      try {
        const signed = await signer.sign({
          method,
          protocol: url.protocol,
          hostname: url.hostname,
          ...(url.port ? { port: Number(url.port) } : {}),
          path: url.pathname,
          query,
          headers: { ...headers, host: url.host },
          ...(body === undefined ? {} : { body }),
        });
        return signed.headers;
      } catch (err) {
        // The credential chain found nothing (no profile, no environment, no instance role).
        if (err instanceof Error && err.name === 'CredentialsProviderError') {
          throw new ConfigurationError(
            `no AWS credentials to sign requests to ${url.origin}: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (${err.message})`,
            { cause: err },
          );
        }
        throw err;
      }
    },
  };
}
