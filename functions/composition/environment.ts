/** The configuration, read from the environment once per cold start (a wrong setting fails it by name). */
import { type Config, loadConfig } from './config';

export const config: Config = loadConfig(process.env);
