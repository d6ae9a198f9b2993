/** The console page as static files, and the server of its `/ui/*` paths (the local runtime, `optiinfra console`). */
export { CONSOLE_FILES, type ConsoleAsset, type ConsoleAssets, consoleAssets, contentTypeOf } from './console-assets.js';
export {
  CONSOLE_PATH,
  CONSOLE_SECURITY_HEADERS,
  type ConsoleOptions,
  type ConsoleRequest,
  consoleServer,
  isConsolePath,
  SERVER_KEEP_ALIVE_MS,
  sendConsoleJson,
} from './console-server.js';
export type { ConsoleMetrics, ConsoleMetricsSeries } from '@optiinfra/contract/dashboard-metrics';
