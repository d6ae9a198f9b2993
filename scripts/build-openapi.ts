/**
 * `npm run build:openapi`: writes the OpenAPI 3.1 document of the HTTP API to
 * packages/contract/dist/openapi.json, where the contract package ships it (the root `build` runs
 * this after the packages' own builds). On AWS this file is the spec: API Gateway does not serve it.
 *
 *   npm run build:openapi                        # packages/contract/dist/openapi.json
 *   npm run build:openapi -- --out api.json      # somewhere else
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildOpenApiDocument } from '../functions/api/openapi';
import { ROOT } from '../harness/processes';

const USAGE = 'usage: npm run build:openapi -- [--out packages/contract/dist/openapi.json]';
let values: { out?: string; help?: boolean };
try {
  ({ values } = parseArgs({ options: { out: { type: 'string' }, help: { type: 'boolean' } } }));
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const out = path.resolve(values.out ?? path.join(ROOT, 'packages', 'contract', 'dist', 'openapi.json'));
const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(buildOpenApiDocument({ version }), null, 2)}\n`);
console.log(`OpenAPI ${version} written to ${path.relative(process.cwd(), out) || out}`);
