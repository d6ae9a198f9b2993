/**
 * The runtime validates a state machine definition once per engine version (local/stand-ins/
 * validated-engine.ts): an accepted definition is remembered and not validated again, a refused
 * one is refused every time and never remembered.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validatedEngine, validationMarker } from '../../local/stand-ins/validated-engine';

/** A new object each time (the engine adds to the definition it runs); a Pass state whose Next is `next`, or the end. */
const definition = (comment: string, next?: string) =>
  ({
    Comment: comment,
    StartAt: 'A',
    States: { A: { Type: 'Pass', Result: { ok: 1 }, ...(next ? { Next: next } : { End: true }) } },
  }) as never;

function markerOf(def: never): string {
  const marker = validationMarker(def);
  if (marker === undefined) throw new Error('no marker: the engine version of local/stand-ins/node22 could not be read');
  return marker;
}

describe('validatedEngine', () => {
  it('refuses an invalid definition every time and remembers nothing of it', () => {
    // A Pass state that names a next state that does not exist.
    const comment = randomUUID();
    const marker = markerOf(definition(comment, 'missing'));
    expect(() => validatedEngine(definition(comment, 'missing'))).toThrow();
    expect(() => validatedEngine(definition(comment, 'missing'))).toThrow();
    expect(existsSync(marker)).toBe(false);
  });

  it('remembers a definition it accepted, and runs it', async () => {
    const comment = randomUUID();
    const marker = markerOf(definition(comment));
    try {
      expect(existsSync(marker)).toBe(false);
      await expect(validatedEngine(definition(comment)).run({}).result).resolves.toEqual({ ok: 1 });
      expect(existsSync(marker)).toBe(true);
      await expect(validatedEngine(definition(comment)).run({}).result).resolves.toEqual({ ok: 1 });
    } finally {
      rmSync(marker, { force: true });
    }
  });

  it('does not validate again a definition it remembers', () => {
    // Only a skipped validation lets this invalid definition through.
    const comment = randomUUID();
    const marker = markerOf(definition(comment, 'missing'));
    mkdirSync(path.dirname(marker), { recursive: true });
    writeFileSync(marker, '');
    try {
      expect(() => validatedEngine(definition(comment, 'missing'))).not.toThrow();
    } finally {
      rmSync(marker, { force: true });
    }
  });
});
