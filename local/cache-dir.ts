import path from 'node:path';

/**
 * Where the local runtime keeps what it can make again but would rather not at every start (the
 * synthesized template, the state machine definitions the engine accepted): node_modules/.cache, so
 * a clean install or `rm -rf node_modules` clears it.
 */
export const LOCAL_CACHE_DIR = path.join(import.meta.dirname, '..', 'node_modules', '.cache', 'optiinfra');
