/** How the dispatcher calls agents, and the starter submitters' callbacks: HTTP within the network policy. */
import { HttpAgentClient } from '../adapters/http-agent-client';
import { HttpCallbackClient } from '../adapters/http-callback-client';
import { config, once } from './composition-root';

export const agentClient = once(() => new HttpAgentClient(config.settings.networkPolicy, config.MAX_AGENT_ANSWER_BYTES));
export const callbackClient = once(() => new HttpCallbackClient(agentClient()));
