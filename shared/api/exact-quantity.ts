// Exact resource quantities for quota and limit-range arithmetic, as apimachinery's
// resource.Quantity: a value (held in whole nano-units, so "500m" + "500m" is exactly "1") and
// the format it prints in (DecimalSI "1500m", BinarySI "1536Mi", DecimalExponent "1e3").
// Summing usage in floating point would let a quota drift by a rounding error and refuse (or
// admit) a pod at the boundary; these never round except below a nano-unit, upwards, as
// Kubernetes does. shared/api/quantity.ts keeps the scheduler's whole millicores and bytes.
import { QuantityError } from './quantity.ts';

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export interface Quantity {
  /** The value in nano-units (1 core = 1e9, 1 byte = 1e9). */
  nanos: bigint;
  format: QuantityFormat;
}

/** A Kubernetes ResourceList (`{cpu: "500m", pods: "2"}`) with its values parsed. */
export type ResourceList = Record<string, Quantity>;

const PATTERN = /^([+-]?)(\d*)(?:\.(\d*))?(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;
const BINARY_POWER: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_EXPONENT: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const DECIMAL_SUFFIX: Record<number, string> = { [-9]: 'n', [-6]: 'u', [-3]: 'm', 0: '', 3: 'k', 6: 'M', 9: 'G', 12: 'T', 15: 'P', 18: 'E' };
const BINARY_SUFFIX = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
/** Beyond this the value is no int64 of nano-units any more: Kubernetes refuses such quantities too. */
const MAX_EXPONENT = 60;

const pow10 = (n: number): bigint => 10n ** BigInt(n);

/** Division rounding away from zero, as Kubernetes rounds a quantity finer than its scale. */
function divCeil(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b === 0n ? q : a > 0n ? q + 1n : q - 1n;
}

/** Parses "500m", "1.5Gi", "2", "1e3" (or a JSON number) exactly; throws QuantityError. */
export function parseExact(input: string | number): Quantity {
  const text = typeof input === 'number' ? (Number.isFinite(input) ? String(input) : '') : input.trim();
  const m = PATTERN.exec(text);
  if (!m || (!m[2] && !m[3]) || text === '') throw new QuantityError(String(input));
  const [, sign, whole, fraction = '', suffix, exponent] = m;
  const digits = BigInt(`${whole || '0'}${fraction}`);
  let format: QuantityFormat = 'DecimalSI';
  let exp10 = 9 - fraction.length;
  let multiplier = 1n;
  if (exponent !== undefined) {
    format = 'DecimalExponent';
    const e = Number(exponent);
    if (Math.abs(e) > MAX_EXPONENT) throw new QuantityError(String(input));
    exp10 += e;
  } else if (suffix && suffix in BINARY_POWER) {
    format = 'BinarySI';
    multiplier = 1024n ** BigInt(BINARY_POWER[suffix]);
  } else if (suffix) {
    exp10 += DECIMAL_EXPONENT[suffix];
  }
  let nanos = exp10 >= 0 ? digits * multiplier * pow10(exp10) : divCeil(digits * multiplier, pow10(-exp10));
  if (sign === '-') nanos = -nanos;
  return { nanos, format };
}

/** The parsed quantity, or undefined when the text is no quantity. */
export function tryParseExact(input: unknown): Quantity | undefined {
  if (typeof input !== 'string' && typeof input !== 'number') return undefined;
  try {
    return parseExact(input);
  } catch {
    return undefined;
  }
}

/** Quantity.String(): the canonical text, the largest suffix that keeps the number whole. */
export function formatQuantity(q: Quantity): string {
  if (q.nanos === 0n) return '0';
  const sign = q.nanos < 0n ? '-' : '';
  const abs = q.nanos < 0n ? -q.nanos : q.nanos;
  const billion = pow10(9);
  // BinarySI only for whole values of at least 1024 (Kubernetes prints the rest in DecimalSI).
  if (q.format === 'BinarySI' && abs % billion === 0n && abs >= 1024n * billion) {
    let value = abs / billion;
    let power = 0;
    while (power < BINARY_SUFFIX.length - 1 && value % 1024n === 0n) {
      value /= 1024n;
      power++;
    }
    return `${sign}${value}${BINARY_SUFFIX[power]}`;
  }
  // mantissa × 10^exp with exp a multiple of 3 between -9 and 18, as large as keeps it whole.
  let mantissa = abs;
  let exp = -9;
  while (exp < 18 && mantissa % 1000n === 0n) {
    mantissa /= 1000n;
    exp += 3;
  }
  if (q.format === 'DecimalExponent') return `${sign}${mantissa}${exp === 0 ? '' : `e${exp}`}`;
  return `${sign}${mantissa}${DECIMAL_SUFFIX[exp]}`;
}

/** The canonical text of a quantity written any way ("1000m" → "1", "1.5Gi" → "1536Mi"). */
export function canonicalQuantity(input: string | number): string {
  return formatQuantity(parseExact(input));
}

export const zero = (): Quantity => ({ nanos: 0n, format: 'DecimalSI' });

/** a + b in a's format; a zero takes b's (as Quantity.Add). */
export function addQ(a: Quantity, b: Quantity): Quantity {
  return { nanos: a.nanos + b.nanos, format: a.nanos === 0n ? b.format : a.format };
}

export function subQ(a: Quantity, b: Quantity): Quantity {
  return { nanos: a.nanos - b.nanos, format: a.nanos === 0n ? b.format : a.format };
}

export function cmpQ(a: Quantity, b: Quantity): number {
  return a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0;
}

/** Quantity.Value(): whole units, rounded up. */
export function valueOf(q: Quantity): bigint {
  return divCeil(q.nanos, pow10(9));
}

/** Quantity.MilliValue(): whole thousandths, rounded up. */
export function milliValueOf(q: Quantity): bigint {
  return divCeil(q.nanos, pow10(6));
}

// ---- resource lists (apiserver/pkg/quota/v1 resources.go) ------------------------------

/** Parses a ResourceList as written in an object; entries that are no quantity are left out (validation reports them). */
export function parseList(list: Record<string, unknown> | undefined | null): ResourceList {
  const out: ResourceList = {};
  for (const [k, v] of Object.entries(list && typeof list === 'object' ? list : {})) {
    const q = tryParseExact(v);
    if (q) out[k] = q;
  }
  return out;
}

export function formatList(list: ResourceList): Record<string, string> {
  return Object.fromEntries(Object.keys(list).sort().map((k) => [k, formatQuantity(list[k])]));
}

/** a + b key by key (keys of either). */
export function addLists(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? addQ(out[k], v) : v;
  return out;
}

/** a - b for the keys of a (quota.Subtract). */
export function subtractLists(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = {};
  for (const [k, v] of Object.entries(a)) out[k] = k in b ? subQ(v, b[k]) : v;
  return out;
}

/** a - b for the keys of a, never below zero (quota.SubtractWithNonNegativeResult). */
export function subtractNonNegative(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = {};
  for (const [k, v] of Object.entries(a)) {
    const d = k in b ? subQ(v, b[k]) : v;
    out[k] = d.nanos < 0n ? { nanos: 0n, format: d.format } : d;
  }
  return out;
}

/** The entries of list whose keys are in names (quota.Mask). */
export function maskList(list: ResourceList, names: Iterable<string>): ResourceList {
  const out: ResourceList = {};
  for (const k of names) if (k in list) out[k] = list[k];
  return out;
}

export function removeZeros(list: ResourceList): ResourceList {
  return Object.fromEntries(Object.entries(list).filter(([, v]) => v.nanos !== 0n));
}

/** Per key, the larger of a and b (resourcehelper's max over init containers). */
export function maxLists(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = { ...a };
  for (const [k, v] of Object.entries(b)) if (!(k in out) || cmpQ(v, out[k]) > 0) out[k] = v;
  return out;
}

/** Whether every key of a that b limits is at most b's; the keys where it is not (quota.LessThanOrEqual). */
export function lessThanOrEqual(a: ResourceList, b: ResourceList): { allowed: boolean; exceeded: string[] } {
  const exceeded = Object.keys(a).filter((k) => k in b && cmpQ(a[k], b[k]) > 0).sort();
  return { allowed: exceeded.length === 0, exceeded };
}

export function listsEqual(a: ResourceList, b: ResourceList): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => k in b && a[k].nanos === b[k].nanos);
}

/** "a=1,b=500m": sorted keys, as the quota admission's prettyPrint. */
export function prettyPrint(list: ResourceList): string {
  return Object.keys(list).sort().map((k) => `${k}=${formatQuantity(list[k])}`).join(',');
}
