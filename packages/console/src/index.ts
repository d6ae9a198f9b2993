/** The console page as static files, for a server to answer `/ui/*` with (the local runtime, `optiinfra console`). */
export { CONSOLE_FILES, type ConsoleAsset, type ConsoleAssets, consoleAssets, contentTypeOf } from './console-assets.js';
export type { ConsoleMetrics, MetricPoint, MetricSeries, MetricSeriesId } from './console-metrics.js';
