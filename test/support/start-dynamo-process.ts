import { NODE, type Proc, startProcess } from '../../harness/processes';

/**
 * The DynamoDB stand-in alone in a process (test/support/dynamo-process.ts) on `dir`, once it
 * serves: for tests that SIGKILL it mid-write.
 */
export async function startDynamoProcess(dir: string, env: Record<string, string> = {}): Promise<{ proc: Proc; endpoint: string }> {
  const proc = startProcess(NODE, ['--disable-warning=ExperimentalWarning', '--import', 'tsx', 'test/support/dynamo-process.ts', dir], env);
  try {
    return { proc, endpoint: (await proc.waitFor(/^endpoint (\S+)$/m))[1]! };
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
}
