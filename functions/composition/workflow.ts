/** The Standard and Express state machines, through Step Functions. */
import { SFNClient } from '@aws-sdk/client-sfn';
import { StepFunctionsWorkflow } from '../adapters/step-functions-workflow';
import { hooked } from './aws-client-hook';
import { config, once } from './composition-root';
import { required } from './config';
import { adapterLog } from './observability';

const sfn = once(() => hooked(new SFNClient({})));

export const workflow = once(
  () =>
    new StepFunctionsWorkflow(
      sfn(),
      { standard: required(config, 'STATE_MACHINE_ARN'), express: config.EXPRESS_STATE_MACHINE_ARN },
      adapterLog,
    ),
);
