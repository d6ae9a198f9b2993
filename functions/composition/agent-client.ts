/** How the dispatcher calls agents: HTTP within the network policy. */
import { HttpAgentClient } from '../adapters/http-agent-client';
import { config, once } from './composition-root';

export const agentClient = once(() => new HttpAgentClient(config.settings.networkPolicy, config.MAX_AGENT_ANSWER_BYTES));
