/**
 * `npm run stack-trace`: a deployed function's stack trace, with each position in its bundle
 * (index.mjs:1:23456) replaced by the source file, line and column. The functions do not load
 * their source maps at start (that would cost every cold start); this reads them afterwards.
 *
 *   npm run stack-trace -- dispatcher < trace.txt                    # bundles functions/handlers/dispatcher.ts of this checkout
 *   npm run stack-trace -- cdk.out/asset.<hash>/index.mjs.map < trace.txt
 *
 * A function name rebuilds its bundle here, byte for byte what the same commit deploys (checked by
 * test/infra/offline-synth.test.ts): check out the deployed commit first. A map file is used as it is:
 * the one `npm run synth` wrote to cdk.out, or the one in the function's deployment package.
 */
import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';
import { buildFunctionBundles, functionNames } from '../bench/cold/bundles';
import { ROOT, tempDir } from '../harness/processes';

const [what] = process.argv.slice(2);
if (!what || what === '--help') {
  console.error(`usage: npm run stack-trace -- <${functionNames().join(' | ')} | path/to/index.mjs.map> < trace.txt`);
  process.exit(what ? 0 : 2);
}

/** The map, and the folder its sources are relative to. */
async function mapOf(nameOrFile: string): Promise<{ map: SourceMap; dir: string }> {
  const read = (file: string) => ({
    map: new SourceMap(JSON.parse(readFileSync(file, 'utf8')) as SourceMapPayload),
    dir: path.dirname(path.resolve(file)),
  });
  if (nameOrFile.endsWith('.map')) return read(nameOrFile);
  if (!functionNames().includes(nameOrFile)) {
    console.error(`no function ${nameOrFile}; give one of ${functionNames().join(', ')}, or a .map file`);
    process.exit(2);
  }
  const out = tempDir('optiinfra-stack-');
  try {
    const [bundle] = await buildFunctionBundles(out.dir, [nameOrFile]);
    return read(`${bundle!.file}.map`);
  } finally {
    out.remove();
  }
}

const { map, dir } = await mapOf(what);
/** A source as a path in this checkout when it is one; else as the map has it, without the leading ../ */
function shown(source: string): string {
  const inRoot = path.relative(ROOT, path.resolve(dir, source));
  return inRoot.startsWith('..') ? path.normalize(source).replace(/^(\.\.\/)+/, '') : inRoot;
}
const trace = readFileSync(0, 'utf8');
// V8 positions are 1-based, as findOrigin takes them.
const readable = trace.replace(/(?:file:\/\/)?[^\s()]*index\.mjs:(\d+):(\d+)/g, (whole, line: string, column: string) => {
  const origin = map.findOrigin(Number(line), Number(column));
  if (!('fileName' in origin)) return whole;
  return `${shown(origin.fileName)}:${origin.lineNumber}:${origin.columnNumber}${origin.name ? ` (${origin.name})` : ''}`;
});
process.stdout.write(readable);
