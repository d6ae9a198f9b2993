/**
 * DynamoDB's capacity arithmetic, for what dynalite does not report: item sizes as DynamoDB counts
 * them, and the write units each secondary index of the synthesized template costs for a write,
 * from the item's images before and after it.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { CfnTemplate } from '../../local/template/cfn-template';
import { tablesFromTemplate } from '../../local/template/tables';

export type Item = Record<string, AttributeValue>;

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** A number: one byte per two significant digits, plus one. */
function numberSize(n: string): number {
  const digits = n.replace(/^[-+]/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

const binarySize = (b: Uint8Array | string) => (typeof b === 'string' ? Buffer.from(b, 'base64').length : b.length);

export function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return binarySize(v.B);
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS !== undefined) return v.SS.reduce((n, s) => n + utf8(s), 0);
  if (v.NS !== undefined) return v.NS.reduce((n, s) => n + numberSize(s), 0);
  if (v.BS !== undefined) return v.BS.reduce((n, b) => n + binarySize(b), 0);
  if (v.L !== undefined) return 3 + v.L.reduce((n, e) => n + 1 + valueSize(e), 0);
  if (v.M !== undefined) return 3 + Object.keys(v.M).length + itemSize(v.M);
  return 0;
}

/** Attribute names and values, as DynamoDB sizes an item. */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce((n, [name, value]) => n + utf8(name) + valueSize(value), 0);
}

/** Write units for an item of this size: 1 per KB, rounded up, at least 1. */
export const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

export interface IndexSpec {
  name: string;
  keys: string[];
  projection: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  include: string[];
}

export interface TableSpec {
  name: string;
  keys: string[];
  indexes: IndexSpec[];
}

/** The tables of the synthesized template with their key schemas and secondary indexes (GSIs and LSIs). */
export function tableSpecs(template: CfnTemplate): Map<string, TableSpec> {
  const specs = new Map<string, TableSpec>();
  for (const { input } of tablesFromTemplate(template)) {
    const keysOf = (schema: Array<{ AttributeName?: string }> | undefined) => (schema ?? []).map((k) => k.AttributeName!);
    const indexes = [...(input.GlobalSecondaryIndexes ?? []), ...(input.LocalSecondaryIndexes ?? [])].map((i) => ({
      name: i.IndexName!,
      keys: keysOf(i.KeySchema),
      projection: i.Projection?.ProjectionType ?? 'KEYS_ONLY',
      include: i.Projection?.NonKeyAttributes ?? [],
    }));
    specs.set(input.TableName!, { name: input.TableName!, keys: keysOf(input.KeySchema), indexes });
  }
  return specs;
}

/** The item's entry in the index, or undefined when the item lacks one of the index's keys (a sparse index). */
export function entryOf<T extends object>(table: TableSpec, index: IndexSpec, item: T | undefined): T | undefined {
  if (!item || !index.keys.every((k) => (item as Record<string, unknown>)[k] !== undefined)) return undefined;
  if (index.projection === 'ALL') return item;
  const names = new Set([...table.keys, ...index.keys, ...(index.projection === 'INCLUDE' ? index.include : [])]);
  return Object.fromEntries(Object.entries(item).filter(([name]) => names.has(name))) as T;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Write units the indexes take for one write that turned `before` into `after` (either may be
 * absent). Per index: an entry that appears is a put, one that goes is a delete, one whose index key
 * changes is a delete and a put, one whose projected attributes change is an update, and an
 * unchanged entry costs nothing. Each is 1 unit per KB of the projected entry.
 */
export function indexWriteUnits(table: TableSpec, before: Item | undefined, after: Item | undefined): number {
  let units = 0;
  for (const index of table.indexes) {
    const old = entryOf(table, index, before);
    const now = entryOf(table, index, after);
    if (!old && !now) continue;
    if (old && !now) units += writeUnits(itemSize(old));
    else if (!old && now) units += writeUnits(itemSize(now));
    else if (
      !same(
        index.keys.map((k) => old![k]),
        index.keys.map((k) => now![k]),
      )
    )
      units += writeUnits(itemSize(old!)) + writeUnits(itemSize(now!));
    else if (!same(sorted(old!), sorted(now!))) units += writeUnits(Math.max(itemSize(old!), itemSize(now!)));
  }
  return units;
}

const sorted = (item: Item) => Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)));

/** The table key of an item (for PutItem, whose input has no Key). */
export function keyOf(table: TableSpec, item: Item): Item {
  return Object.fromEntries(table.keys.map((k) => [k, item[k]!]));
}
