/** What registration checks a fleet token against: only the agents API uses it. */
import { currentFleetTokens } from '../adapters/fleet-tokens';
import { config } from './composition-root';

/** The tokens registration accepts now: FLEET_TOKENS, plus the deployment's secret (cached for a minute). */
export function fleetTokens(): Promise<string[]> {
  return currentFleetTokens(config.settings.fleetTokens, config.FLEET_TOKENS_SECRET_ARN);
}
