/**
 * The tokens that let an agent register: FLEET_TOKENS from the environment (the local runtime), and
 * on AWS the comma-separated Secrets Manager secret named by FLEET_TOKENS_SECRET_ARN, read through
 * Powertools parameters and cached for a minute, so a rotation (adding a token, later removing the
 * old one) takes effect without a deployment.
 */
import { getSecret, type SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { DependencyError } from '@optiinfra/contract';

export const FLEET_TOKENS_CACHE_SECONDS = 60;

export function splitTokens(value: string): string[] {
  return value
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

/** `secrets` reads the secret (the composition root gives one on its own client); Powertools' default provider otherwise. */
export async function currentFleetTokens(
  fromEnv: readonly string[],
  secretArn: string | undefined,
  secrets?: Pick<SecretsProvider, 'get'>,
): Promise<string[]> {
  if (!secretArn) return [...fromEnv];
  let value: unknown;
  try {
    const options = { maxAge: FLEET_TOKENS_CACHE_SECONDS };
    value = await (secrets ? secrets.get(secretArn, options) : getSecret(secretArn, options));
  } catch (err) {
    throw new DependencyError(
      `the fleet tokens could not be read, so no agent can register now; try again shortly (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (typeof value !== 'string') throw new DependencyError('the fleet tokens secret is not a string of comma-separated tokens');
  return [...fromEnv, ...splitTokens(value)];
}
