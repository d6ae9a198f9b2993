/**
 * Once per integration run, before the test files start, fills the caches their processes share, so
 * that on a fresh clone (as in CI) parallel processes do not each do the same work at once:
 * - the synthesized template and the bundled fault agent (node_modules/.cache);
 * - tsx's cache of compiled TypeScript, which is keyed by each file's path, so a new clone starts
 *   cold: one orchestrator started and stopped here, as `npm start` runs it with its example agents,
 *   compiles the runtime, every handler and the SDK once for all the processes the tests start.
 */
import { faultAgentScript } from '../../harness/agents';
import { startLocalOrchestrator } from '../../harness/local-orchestrator';
import { synthesizedTemplate } from '../../local/template/synthesize';

export async function setup(): Promise<void> {
  await Promise.all([synthesizedTemplate(), faultAgentScript()]);
  const warm = await startLocalOrchestrator({}, []);
  await warm.dispose();
}
