/** The package build's last step (`npm run bundle`): the bundled page into dist/ui/, which the published package serves. */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { bundleConsole } from './bundle.js';

const OUT = fileURLToPath(new URL('../dist/ui/', import.meta.url));
await mkdir(OUT, { recursive: true });
for (const [name, asset] of await bundleConsole()) await writeFile(`${OUT}${name}`, asset.body);
