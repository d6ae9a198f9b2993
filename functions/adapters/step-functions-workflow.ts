import { DescribeExecutionCommand, ExecutionAlreadyExists, type SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { StartOutcome, Workflow, WorkflowInput } from '../core/ports';

export interface WorkflowLogger {
  warn(message: string, extra?: Record<string, unknown>): void;
}

/** One execution per task, named by the task id, so a redelivered start message starts nothing new. */
export class StepFunctionsWorkflow implements Workflow {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
    private readonly log: WorkflowLogger,
  ) {}

  private executionArn(name: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  async start(taskId: string, input: WorkflowInput): Promise<StartOutcome> {
    const payload = JSON.stringify(input);
    try {
      await this.sfn.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name: taskId, input: payload }));
      return 'started';
    } catch (err) {
      if (!(err instanceof ExecutionAlreadyExists)) throw err;
    }
    const existing = await this.sfn.send(new DescribeExecutionCommand({ executionArn: this.executionArn(taskId) }));
    if (existing.status === 'RUNNING') return 'already_running';
    // The first execution ended without finishing the task (the task is not terminal, or we would
    // not be here), and Standard names cannot be reused: carry on under a new name.
    await this.sfn.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name: `${taskId}.${Date.now()}`, input: payload }));
    return 'already_closed';
  }

  async stop(taskId: string, reason: string): Promise<void> {
    try {
      await this.sfn.send(new StopExecutionCommand({ executionArn: this.executionArn(taskId), cause: reason }));
    } catch (err) {
      this.log.warn('could not stop the execution; it ends at its next step instead', { task_id: taskId, error: err instanceof Error ? err.name : String(err) });
    }
  }
}
