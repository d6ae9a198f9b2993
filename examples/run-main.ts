/** What the example agents share as programs: run `main` when started as one, not when a test imports them. */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Whether the module at `moduleUrl` (its import.meta.url, the real path) is the script node was started with (argv[1], maybe a symlink). */
function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(path.resolve(script)) === fileURLToPath(moduleUrl);
  } catch {
    return false;
  }
}

/** Runs `main` if the module is the entry point, then exits: 0 when it resolves, 1 with its message under `[label]` when it throws. */
export function runIfMain(moduleUrl: string, label: string, main: () => Promise<void>): void {
  if (!isEntryPoint(moduleUrl)) return;
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`[${label}] ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
