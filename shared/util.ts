// Small helpers every part of Wharf uses.
import { isDeepStrictEqual } from 'node:util';
import { networkInterfaces } from 'node:os';

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

/** A dotted-quad IPv4 address as a number, or undefined if it is not one. */
export function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** Runs `run` over items with at most `parallel` in flight, a batch at a time. */
export async function inBatches<T>(items: Iterable<T>, parallel: number, run: (item: T) => Promise<unknown>): Promise<void> {
  const list = [...items];
  for (let i = 0; i < list.length; i += parallel) await Promise.all(list.slice(i, i + parallel).map(run));
}

/** The host's first IPv4 address that is not loopback nor a container bridge: what it advertises by default. */
export function hostIPv4(): string | undefined {
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    if (/^(docker|br-|veth|virbr|cni|flannel|cali)/.test(name)) continue;
    const v4 = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (v4) return v4.address;
  }
  return undefined;
}
