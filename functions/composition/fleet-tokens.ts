/** What registration checks a fleet token against: only the agents API uses it. */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { currentFleetTokens } from '../adapters/fleet-tokens';
import { hooked } from './aws-client-hook';
import { config, once } from './composition-root';

// Powertools would make its own client, out of reach of onAwsClient.
const secrets = once(() => new SecretsProvider({ awsSdkV3Client: hooked(new SecretsManagerClient({})) }));

/** The tokens registration accepts now: FLEET_TOKENS, plus the deployment's secret (cached for a minute). */
export function fleetTokens(): Promise<string[]> {
  const arn = config.FLEET_TOKENS_SECRET_ARN;
  return currentFleetTokens(config.settings.fleetTokens, arn, arn ? secrets() : undefined);
}
