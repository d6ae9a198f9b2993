/**
 * The integration project records every AWS call its local runtimes make (OPTIINFRA_RECORD_AWS_CALLS,
 * set in vitest.config.ts), for the iam project that runs after it. Each run starts from nothing.
 */
import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { RECORD_AWS_CALLS_ENV } from '../../local/aws-call-guard';

export function setup(project: TestProject): void {
  const dir = project.config.env[RECORD_AWS_CALLS_ENV];
  if (typeof dir === 'string' && dir) rmSync(dir, { recursive: true, force: true });
}
