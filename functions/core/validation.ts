import * as z from 'zod/mini';
import { type FieldIssue, ValidationError } from '@optiinfra/contract';

/**
 * Parses `input` with `schema`, or throws one ValidationError whose message names every wrong field
 * and what is allowed, so a caller can fix the whole request in one go.
 */
export function parseOrThrow<S extends z.ZodMiniType>(schema: S, input: unknown, where: string): z.output<S> {
  const parsed = z.safeParse(schema, input);
  if (parsed.success) return parsed.data;
  const issues: FieldIssue[] = [];
  for (const issue of parsed.error.issues) {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const field = path ? `${path}.${key}` : key;
        issues.push({ field, message: `unknown field "${field}"${allowedHint(schema, path)}` });
      }
      continue;
    }
    if (path === '' && issue.code === 'invalid_type') {
      issues.push({ field: '', message: `${where} must be a JSON object` });
      continue;
    }
    issues.push({ field: path, message: `${path} ${issue.message}` });
  }
  throw new ValidationError(`invalid ${where}: ${issues.map((i) => i.message).join('; ')}`, issues);
}

function allowedHint(schema: z.ZodMiniType, path: string): string {
  if (path !== '') return '';
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? `; allowed fields are ${Object.keys(shape).join(', ')}` : '';
}
