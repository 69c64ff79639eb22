// Small helpers every part of Wharf uses.
import { isDeepStrictEqual } from 'node:util';

/** RFC 3339 with second precision, as Kubernetes writes timestamps. */
export function now(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a, b);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** Parses an RFC 3339 timestamp to epoch milliseconds (NaN when absent). */
export function timeMs(ts: string | undefined | null): number {
  return ts ? Date.parse(ts) : NaN;
}
