/**
 * CloudFormation metadata key naming a function's source entry (functions/handlers/...): the CDK
 * app writes it on every function, and the local runtime maps the template's functions to their
 * handlers by it. A module of its own, so the runtime reads it without loading aws-cdk-lib.
 */
export const ENTRY_METADATA_KEY = 'optiinfra:entry';
