// Structured logs (pino: JSON lines, cheap enough for the hot paths of the workers).
import { pino, type Logger } from 'pino';

export type { Logger };

/** level: the service's configured one (config.common.logLevel, from WHARF_LOG_LEVEL). */
export function createLogger(service: string, level: string): Logger {
  return pino({ name: service, level, base: { service, pid: process.pid } });
}
