/**
 * The DynamoDB stand-in alone in a process, so a test can SIGKILL it mid-write:
 * `dynamo-process.ts <data dir>`. Prints `endpoint <url>`, and `recovery <json>` when it mended
 * the store of a killed predecessor.
 *
 * With STALL_WRITES_MATCHING=<regex>, a SIGUSR2 makes every later LevelDB put of a matching key
 * hang, so a kill lands between an item's writes at a known point. This is fault injection into
 * dynalite's storage layer: the real crash window is a few microseconds wide and a test cannot hit
 * it on purpose.
 */
import { createRequire } from 'node:module';
import { startDynamo } from '../../local/stand-ins/dynamodb';

const dir = process.argv[2];
if (!dir) throw new Error('usage: dynamo-process.ts <data dir>');

const stallPattern = process.env.STALL_WRITES_MATCHING;
if (stallPattern) {
  const pattern = new RegExp(stallPattern);
  let stalling = false;
  process.on('SIGUSR2', () => {
    stalling = true;
    console.log('stalling');
  });
  // dynalite's LevelDB is an abstract-level database; dynalite binds `put` when it opens the store.
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const { AbstractLevel } = fromDynalite('abstract-level') as {
    AbstractLevel: { prototype: { put: (this: unknown, key: unknown, ...rest: unknown[]) => Promise<void> } };
  };
  const put = AbstractLevel.prototype.put;
  AbstractLevel.prototype.put = function (this: unknown, key: unknown, ...rest: unknown[]) {
    if (stalling && typeof key === 'string' && pattern.test(key)) return new Promise<void>(() => undefined);
    return put.call(this, key, ...rest);
  };
}

const dynamo = await startDynamo({ path: dir });
console.log(`endpoint ${dynamo.endpoint}`);
if (dynamo.recovery) console.log(`recovery ${JSON.stringify(dynamo.recovery)}`);
process.once('SIGTERM', () => void dynamo.stop().then(() => process.exit(0)));
