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

/**
 * Executions named by the task id. On Standard the name makes a redelivered start message start
 * nothing new; Express allows duplicate names, and the dispatcher's conditional lease makes a
 * duplicate execution harmless.
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
    const stateMachineArn = kind === 'express' && this.arns.express ? this.arns.express : this.arns.standard;
    const payload = JSON.stringify(input);
    try {
      await this.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: payload }));
      return 'started';
    } catch (err) {
      if (!(err instanceof ExecutionAlreadyExists)) throw err;
    }
    // Only Standard refuses a used name (Express runs every start, and cannot be described).
    if (stateMachineArn === this.arns.standard) {
      const existing = await this.sfn.send(new DescribeExecutionCommand({ executionArn: this.executionArn(stateMachineArn, name) }));
      if (existing.status === 'RUNNING') return 'already_running';
    }
    // The first execution ended without finishing the task (else we would not be starting it),
    // and its name cannot be reused: carry on under a new name.
    await this.sfn.send(new StartExecutionCommand({ stateMachineArn, name: `${name}.${Date.now()}`, input: payload }));
    return 'already_closed';
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
