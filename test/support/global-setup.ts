/**
 * Once per integration run, before the test files start: synthesizes the template and bundles the
 * fault agent if their caches lack them, so parallel test processes on a fresh clone do not each do
 * it at the same moment.
 */
import { faultAgentScript } from '../../harness/agents';
import { synthesizedTemplate } from '../../local/template/synthesize';

export async function setup(): Promise<void> {
  await Promise.all([synthesizedTemplate(), faultAgentScript()]);
}
