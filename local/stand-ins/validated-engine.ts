/**
 * aws-local-stepfunctions validates a definition each time an engine is made for it (asl-validator
 * compiles its JSON schemas with ajv): half a second of CPU per state machine at every start of the
 * runtime, for definitions that rarely change. A definition it accepted is remembered in
 * node_modules/.cache/optiinfra under a digest of the definition and the engine's version, and is not
 * validated again; one it refuses is never remembered, so it is refused at every start.
 * test/local/template.test.ts validates the template's definitions without this cache.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StateMachine, type StateMachineDefinition } from './node22/step-functions';
import { LOCAL_CACHE_DIR as CACHE_DIR } from '../cache-dir';

const ENGINE_PACKAGE = path.join(import.meta.dirname, 'node22', 'node_modules', 'aws-local-stepfunctions', 'package.json');

/** The engine's version, or undefined when it cannot be read (then every definition is validated). */
function engineVersion(): string | undefined {
  try {
    return (JSON.parse(readFileSync(ENGINE_PACKAGE, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** The file that says this engine version accepted `definition`; undefined when the version cannot be read. */
export function validationMarker(definition: StateMachineDefinition): string | undefined {
  const version = engineVersion();
  if (version === undefined) return undefined;
  const digest = createHash('sha256').update(version).update('\0').update(JSON.stringify(definition)).digest('hex').slice(0, 32);
  return path.join(CACHE_DIR, `asl-valid-${digest}`);
}

/** An engine for `definition`, validated unless this engine version accepted the same definition before. */
export function validatedEngine(definition: StateMachineDefinition): StateMachine {
  const marker = validationMarker(definition);
  if (marker !== undefined && existsSync(marker)) return new StateMachine(definition, { validationOptions: { noValidate: true } });
  // Throws for a definition the validator refuses: nothing is remembered then.
  const engine = new StateMachine(definition);
  if (marker === undefined) return engine;
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    writeFileSync(marker, '');
  } catch {
    // A read-only cache only costs the validation again next time.
  }
  return engine;
}
