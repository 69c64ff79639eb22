// core/v1 LimitRange (Kubernetes pkg/registry/core/limitrange/strategy.go, SetDefaults_LimitRangeItem,
// validation ValidateLimitRange). The LimitRanger admission that applies it to pods is
// shared/quota/limit-ranger.ts, run from the pod strategy's admission.
import type { KubeObject, StatusCause } from '../../types.ts';
import { schemaFor } from '../../api/schemas.ts';
import { duplicate, forbidden, invalid, qualifiedNameErrors, required } from '../../api/validation.ts';
import { NAME } from '../../api/printers.ts';
import { type Quantity, cmpQ, formatQuantity, milliValueOf, tryParseExact, valueOf } from '../../api/exact-quantity.ts';
import { LIMIT_TYPES, defaultLimitRange } from '../../quota/limit-ranger.ts';
import { isExtendedResourceName, isStandardContainerResourceName, isStandardResourceName } from '../../quota/resource-names.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo } from '../strategy.ts';

const QUANTITY_PATTERN = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
/** resource.MaxMilliValue: beyond it Kubernetes compares whole units instead of thousandths. */
const MAX_MILLI_VALUE = 9223372036854775n;

function typeErrors(field: string, type: unknown): StatusCause[] {
  const value = typeof type === 'string' ? type : '';
  if (!value) return [required(field)];
  const out = qualifiedNameErrors(field, value);
  if (out.length) return out;
  if (!value.includes('/') && !(LIMIT_TYPES as readonly string[]).includes(value)) return [invalid(field, value, 'must be a standard limit type or fully qualified')];
  return [];
}

/** validateLimitRangeResourceName: containers and pods take container resources, other types any standard one. */
function resourceNameErrors(type: string, field: string, name: string): StatusCause[] {
  const out = qualifiedNameErrors(field, name);
  if (out.length) return out;
  if (!name.includes('/')) {
    if (!isStandardResourceName(name)) return [invalid(field, name, 'must be a standard resource type or fully qualified')];
    if ((type === 'Pod' || type === 'Container') && !isStandardContainerResourceName(name)) return [invalid(field, name, 'must be a standard resource for containers')];
  } else if ((type === 'Pod' || type === 'Container') && !name.includes('kubernetes.io/') && !isExtendedResourceName(name)) {
    return [invalid(field, name, "doesn't follow extended resource name standard")];
  }
  return [];
}

/** Resources that cannot be overcommitted: their default and default request must agree. */
function overcommitForbidden(name: string): boolean {
  return name.startsWith('hugepages-') || isExtendedResourceName(name);
}

function itemErrors(item: any, i: number, seen: Set<string>): StatusCause[] {
  const at = `spec.limits[${i}]`;
  const out: StatusCause[] = [];
  const type = typeof item?.type === 'string' ? item.type : '';
  out.push(...typeErrors(`${at}.type`, item?.type));
  if (seen.has(type)) out.push(duplicate(`${at}.type`, type));
  seen.add(type);

  const keys = new Set<string>();
  const read = (list: string): Record<string, Quantity> => {
    const parsed: Record<string, Quantity> = {};
    for (const [k, v] of Object.entries(item?.[list] ?? {})) {
      const f = `${at}.${list}[${k}]`;
      out.push(...resourceNameErrors(type, f, k));
      const q = tryParseExact(v);
      if (!q) out.push(invalid(f, v, QUANTITY_PATTERN));
      else parsed[k] = q;
      keys.add(k);
    }
    return parsed;
  };
  const max = read('max');
  const min = read('min');
  let defaults: Record<string, Quantity> = {};
  let defaultRequests: Record<string, Quantity> = {};
  if (type === 'Pod') {
    if (Object.keys(item?.default ?? {}).length) out.push(forbidden(`${at}.default`, "may not be specified when `type` is 'Pod'"));
    if (Object.keys(item?.defaultRequest ?? {}).length) out.push(forbidden(`${at}.defaultRequest`, "may not be specified when `type` is 'Pod'"));
  } else {
    defaults = read('default');
    defaultRequests = read('defaultRequest');
  }
  if (type === 'PersistentVolumeClaim' && !('storage' in min) && !('storage' in max)) {
    out.push(required(`${at}.limits`, 'either minimum or maximum storage value is required, but neither was provided'));
  }
  const ratios = read('maxLimitRequestRatio');

  const s = formatQuantity;
  for (const k of [...keys].sort()) {
    const mn = min[k];
    const mx = max[k];
    const df = defaults[k];
    const dr = defaultRequests[k];
    const ratio = ratios[k];
    if (mn && mx && cmpQ(mn, mx) > 0) out.push(invalid(`${at}.min[${k}]`, s(mn), `min value ${s(mn)} is greater than max value ${s(mx)}`));
    if (dr && mn && cmpQ(mn, dr) > 0) out.push(invalid(`${at}.defaultRequest[${k}]`, s(dr), `min value ${s(mn)} is greater than default request value ${s(dr)}`));
    if (dr && mx && cmpQ(dr, mx) > 0) out.push(invalid(`${at}.defaultRequest[${k}]`, s(dr), `default request value ${s(dr)} is greater than max value ${s(mx)}`));
    if (dr && df && cmpQ(dr, df) > 0) out.push(invalid(`${at}.defaultRequest[${k}]`, s(dr), `default request value ${s(dr)} is greater than default limit value ${s(df)}`));
    if (df && mn && cmpQ(mn, df) > 0) out.push(invalid(`${at}.default[${k}]`, s(mn), `min value ${s(mn)} is greater than default value ${s(df)}`));
    if (df && mx && cmpQ(df, mx) > 0) out.push(invalid(`${at}.default[${k}]`, s(mx), `default value ${s(df)} is greater than max value ${s(mx)}`));
    if (ratio && ratio.nanos < 1_000_000_000n) out.push(invalid(`${at}.maxLimitRequestRatio[${k}]`, s(ratio), `ratio ${s(ratio)} is less than 1`));
    if (ratio && mn && mx) {
      // Thousandths where they fit in an int64, as Kubernetes compares.
      const milli = valueOf(ratio) < MAX_MILLI_VALUE && valueOf(mn) < MAX_MILLI_VALUE && valueOf(mx) < MAX_MILLI_VALUE;
      const ratioValue = milli ? Number(milliValueOf(ratio)) / 1000 : Number(valueOf(ratio));
      const limit = milli ? Number(milliValueOf(mx)) / Number(milliValueOf(mn)) : Number(valueOf(mx)) / Number(valueOf(mn));
      if (ratioValue > limit) out.push(invalid(`${at}.maxLimitRequestRatio[${k}]`, s(ratio), `ratio ${s(ratio)} is greater than max/min = ${limit.toFixed(6)}`));
    }
    if (overcommitForbidden(k) && df && dr && cmpQ(df, dr) !== 0) {
      out.push(invalid(`${at}.defaultRequest[${k}]`, s(dr), `default value ${s(df)} must equal to defaultRequest value ${s(dr)} in ${k}`));
    }
  }
  return out;
}

function limitRangeErrors(lr: KubeObject): StatusCause[] {
  const limits = Array.isArray(lr.spec?.limits) ? lr.spec.limits : [];
  const seen = new Set<string>();
  return limits.flatMap((item: unknown, i: number) => itemErrors(item, i, seen));
}

export const limitRangeStrategy = defineStrategy({
  resource: resourceInfo({ plural: 'limitranges', kind: 'LimitRange', shortNames: ['limits'] }),
  schema: schemaFor('LimitRange'),
  nameErrors: NAMES.subdomain,
  defaults: (lr) => defaultLimitRange(lr),
  validate: limitRangeErrors,
  columns: [
    NAME,
    { name: 'Created At', type: 'date', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', cell: (lr) => lr.metadata.creationTimestamp ?? '' },
  ],
});
