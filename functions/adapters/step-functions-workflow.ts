import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { StartOutcome, Workflow, WorkflowInput } from '../core/ports';
import type { WorkflowKind } from '../core/workflow-choice';

export interface WorkflowLogger {
  warn(message: string, extra?: Record<string, unknown>): void;
}

export interface StateMachineArns {
  standard: string;
  /** Absent when the deployment runs everything on Standard. */
  express?: string;
}

/** Generations probed before a start gives up: far beyond any task's life (each one is ~340 steps). */
const MAX_GENERATIONS = 1_000;

/**
 * Executions named by the task id. On Standard the name makes a redelivered start message start
 * nothing new; Express allows duplicate names, and the dispatcher's conditional lease makes a
 * duplicate execution harmless. A Standard task's successive executions are its generations: the
 * first is named by the task id, generation n by `<task id>.<n>`. A start looks from the generation
 * it is given (WorkflowInput.generation, else the first) for one that is running; past the last
 * one that ended, it starts the next.
 */
export class StepFunctionsWorkflow implements Workflow {
  constructor(
    private readonly sfn: SFNClient,
    private readonly arns: StateMachineArns,
    private readonly log: WorkflowLogger,
  ) {}

  private executionArn(stateMachineArn: string, name: string): string {
    return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  async start(kind: WorkflowKind, name: string, input: WorkflowInput): Promise<StartOutcome> {
    if (kind === 'express' && this.arns.express) {
      // Express runs every start, whatever its name.
      await this.sfn.send(new StartExecutionCommand({ stateMachineArn: this.arns.express, name, input: JSON.stringify(input) }));
      return 'started';
    }
    const stateMachineArn = this.arns.standard;
    const first = input.generation ?? 0;
    for (let generation = first; generation < first + MAX_GENERATIONS; generation++) {
      const execution = generation === 0 ? name : `${name}.${generation}`;
      const payload = JSON.stringify(generation === 0 ? input : { ...input, generation });
      try {
        await this.sfn.send(new StartExecutionCommand({ stateMachineArn, name: execution, input: payload }));
        return generation === first ? 'started' : 'already_closed';
      } catch (err) {
        if (!(err instanceof ExecutionAlreadyExists)) throw err;
      }
      const existing = await this.sfn.send(new DescribeExecutionCommand({ executionArn: this.executionArn(stateMachineArn, execution) }));
      if (existing.status === 'RUNNING') return 'already_running';
      // That generation ended without finishing the task (else we would not be starting it): the next.
    }
    throw new Error(`task ${name}: ${MAX_GENERATIONS} Standard executions from generation ${first} on have ended; not starting another`);
  }

  async stop(name: string, reason: string): Promise<void> {
    try {
      await this.sfn.send(new StopExecutionCommand({ executionArn: this.executionArn(this.arns.standard, name), cause: reason }));
    } catch (err) {
      // A task on Express has no Standard execution to stop; it ends at its next step instead.
      if (err instanceof ExecutionDoesNotExist) return;
      this.log.warn('could not stop the execution; it ends at its next step instead', {
        execution: name,
        error: err instanceof Error ? err.name : String(err),
      });
    }
  }
}
