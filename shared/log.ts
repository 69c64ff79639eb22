// Structured logs (pino: JSON lines, cheap enough for the hot paths of the workers).
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(service: string, level = process.env.WHARF_LOG_LEVEL || 'info'): Logger {
  return pino({ name: service, level, base: { service, pid: process.pid } });
}
