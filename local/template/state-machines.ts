/** The state machines of a template as plain ASL, with the Task states that call its Lambda functions. */
import { createHash } from 'node:crypto';
import { type AwsEnv, type CfnTemplate, DEFAULT_ENV, isRecord, resolveIntrinsics, scalar } from './cfn-template';

export interface TaskStateRef {
  stateName: string;
  functionLogicalId: string;
  /**
   * `function-arn`: Resource is the function ARN (CDK `payloadResponseOnly`); the handler's
   * result is the state's result. `lambda-invoke`: Resource is `arn:aws:states:::lambda:invoke`;
   * the state's input is `{FunctionName, Payload}` and the result must be `{Payload: ...}`.
   */
  integration: 'function-arn' | 'lambda-invoke';
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, Record<string, unknown>>;
  TimeoutSeconds?: number;
  [field: string]: unknown;
}

export interface TemplateStateMachine {
  logicalId: string;
  stateMachineType: 'STANDARD' | 'EXPRESS';
  definition: AslDefinition;
  taskStates: TaskStateRef[];
}

const LAMBDA_ARN = /^arn:[^:]+:lambda:[^:]+:[^:]+:function:([^:]+)(?::[^:]+)?$/;
const LAMBDA_INVOKE = /^arn:[^:]+:states:::lambda:invoke$/;

function functionLogicalIdOf(reference: unknown, template: CfnTemplate): string | undefined {
  if (typeof reference !== 'string') return undefined;
  const name = LAMBDA_ARN.exec(reference)?.[1] ?? (reference.includes(':') ? undefined : reference);
  if (!name) return undefined;
  if (template.Resources[name]?.Type === 'AWS::Lambda::Function') return name;
  return Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties?.FunctionName === name)?.[0];
}

function collectTaskStates(states: unknown, template: CfnTemplate, into: TaskStateRef[]): void {
  if (!isRecord(states)) return;
  for (const [stateName, state] of Object.entries(states)) {
    if (!isRecord(state)) continue;
    if (state.Type === 'Task' && typeof state.Resource === 'string') {
      if (LAMBDA_INVOKE.test(state.Resource)) {
        const parameters = isRecord(state.Parameters) ? state.Parameters : {};
        const functionLogicalId = functionLogicalIdOf(parameters.FunctionName, template);
        if (functionLogicalId) into.push({ stateName, functionLogicalId, integration: 'lambda-invoke' });
      } else {
        const functionLogicalId = LAMBDA_ARN.test(state.Resource) ? functionLogicalIdOf(state.Resource, template) : undefined;
        if (functionLogicalId) into.push({ stateName, functionLogicalId, integration: 'function-arn' });
      }
    }
    if (Array.isArray(state.Branches))
      for (const branch of state.Branches) collectTaskStates(isRecord(branch) ? branch.States : undefined, template, into);
    const processor = isRecord(state.ItemProcessor) ? state.ItemProcessor : isRecord(state.Iterator) ? state.Iterator : undefined;
    if (processor) collectTaskStates(processor.States, template, into);
  }
}

function applyDefinitionSubstitutions(text: string, substitutions: Record<string, unknown>): string {
  return text.replace(/\$\{([^}]+)\}/g, (whole, name: string) => (name in substitutions ? scalar(substitutions[name]) : whole));
}

/**
 * Every AWS::StepFunctions::StateMachine in the template as plain ASL, with the Task states that
 * call a Lambda function of the same template, so each can be given a local handler.
 */
export function stateMachinesFromTemplate(template: CfnTemplate, env: AwsEnv = DEFAULT_ENV): TemplateStateMachine[] {
  const machines: TemplateStateMachine[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const properties = resource.Properties ?? {};
    const substitutions = isRecord(properties.DefinitionSubstitutions)
      ? (resolveIntrinsics(properties.DefinitionSubstitutions, template, env) as Record<string, unknown>)
      : {};
    let definition: unknown;
    if (properties.DefinitionString !== undefined) {
      const text = resolveIntrinsics(properties.DefinitionString, template, env);
      if (typeof text !== 'string') throw new Error(`${logicalId}: DefinitionString does not resolve to a string`);
      try {
        definition = JSON.parse(applyDefinitionSubstitutions(text, substitutions));
      } catch (err) {
        throw new Error(`${logicalId}: DefinitionString is not JSON: ${(err as Error).message}`, { cause: err });
      }
    } else if (properties.Definition !== undefined) {
      const resolved = JSON.stringify(resolveIntrinsics(properties.Definition, template, env));
      definition = JSON.parse(applyDefinitionSubstitutions(resolved, substitutions));
    } else {
      throw new Error(`${logicalId}: only inline definitions (DefinitionString or Definition) are supported, not DefinitionS3Location`);
    }
    if (!isRecord(definition) || typeof definition.StartAt !== 'string' || !isRecord(definition.States)) {
      throw new Error(`${logicalId}: the definition has no StartAt or States`);
    }
    if (definition.QueryLanguage === 'JSONata') throw new Error(`${logicalId}: JSONata state machines do not run locally; use JSONPath`);
    const taskStates: TaskStateRef[] = [];
    collectTaskStates(definition.States, template, taskStates);
    machines.push({
      logicalId,
      stateMachineType: properties.StateMachineType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD',
      definition: definition as AslDefinition,
      taskStates,
    });
  }
  return machines;
}

/** A short digest of a state machine definition, printed at start so a run can be matched to a deployment. */
export function definitionDigest(definition: unknown): string {
  return createHash('sha256').update(JSON.stringify(definition)).digest('hex').slice(0, 16);
}
