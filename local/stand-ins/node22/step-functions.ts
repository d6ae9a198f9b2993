/**
 * aws-local-stepfunctions, from the project of this folder: it needs Node 22, so it is installed by
 * an npm running on Node 22 (scripts/install-stand-ins.ts), apart from the root's packages.
 */
export { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
