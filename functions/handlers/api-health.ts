import { config } from '../composition/composition-root';
import { httpApi } from '../composition/http-handler';

/** GET /health: unauthenticated liveness of the API itself (no dependency is called). */
export const handler = httpApi(
  'health',
  {
    'GET /health': async () => ({
      status: 200,
      body: {
        status: 'healthy',
        service: 'optiinfra-orchestrator',
        timestamp: new Date().toISOString(),
        heartbeat_interval_seconds: config.settings.heartbeatIntervalSeconds,
      },
    }),
  },
  { maxBodyBytes: config.MAX_BODY_BYTES },
);
