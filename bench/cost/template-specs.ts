/** What the cost meter reads from the synthesized template: the functions' memory and the state machines' log levels. */
import { functionBySource } from '../../local/provision';
import type { CfnTemplate } from '../../local/template/cfn-template';
import type { Bucket, FunctionSpec, WorkflowLogLevel } from './meter';

/** Each function's memory, and whether its cost is per task or the fleet's (registrations, heartbeats, the reconciler). */
export function lambdaSpecs(template: CfnTemplate): Record<string, FunctionSpec> {
  const fleet = new Set(
    ['handlers/reconciler.ts', 'handlers/api-agents.ts', 'handlers/api-health.ts'].map((s) => functionBySource(template, s)),
  );
  const specs: Record<string, FunctionSpec> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const memoryMb = Number((resource.Properties as { MemorySize?: number } | undefined)?.MemorySize ?? 128);
    const bucket: Bucket = fleet.has(id) ? 'fleet' : 'task';
    specs[id] = { memoryMb, bucket: () => bucket };
  }
  return specs;
}

/** The log level of each state machine, Express and Standard, as the template sets it. */
export function workflowLogLevels(template: CfnTemplate): Record<'express' | 'standard', WorkflowLogLevel> {
  const levels = { express: 'OFF', standard: 'OFF' } as Record<'express' | 'standard', WorkflowLogLevel>;
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const props = resource.Properties as { StateMachineType?: string; LoggingConfiguration?: { Level?: WorkflowLogLevel } } | undefined;
    levels[props?.StateMachineType === 'EXPRESS' ? 'express' : 'standard'] = props?.LoggingConfiguration?.Level ?? 'OFF';
  }
  return levels;
}
