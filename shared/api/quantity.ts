// Kubernetes resource quantities ("500m", "2", "1.5Gi", "1e3", "128M"): parsed to base units
// (cores, bytes), and the whole millicores / bytes the scheduler and runtime count in.

export class QuantityError extends Error {
  constructor(readonly input: string) {
    super(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
    this.name = 'QuantityError';
  }
}

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const PATTERN = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

/** The value in base units: cores for cpu, bytes for memory. */
export function parseQuantity(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new QuantityError(String(input));
    return input;
  }
  const m = PATTERN.exec(input.trim());
  if (!m || input.trim() === '') throw new QuantityError(input);
  const value = Number(m[1]);
  if (m[3] !== undefined) return value * 10 ** Number(m[3]);
  const suffix = m[2] ?? '';
  return value * (BINARY[suffix] ?? DECIMAL[suffix]);
}

export function isValidQuantity(input: unknown): boolean {
  if (typeof input !== 'string' && typeof input !== 'number') return false;
  try {
    parseQuantity(input);
    return true;
  } catch {
    return false;
  }
}

/** Whole millicores, rounded up as Kubernetes rounds cpu requests. */
export function cpuMillis(q: string | number): number {
  return Math.ceil(Math.round(parseQuantity(q) * 1e9) / 1e6);
}

/** Whole bytes, rounded up. */
export function memoryBytes(q: string | number): number {
  return Math.ceil(parseQuantity(q));
}

export function formatCpuMillis(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}
