// core/v1 ResourceQuota (Kubernetes pkg/registry/core/resourcequota/strategy.go, validation in
// pkg/apis/core/validation ValidateResourceQuota). Its status (hard, used) is the quota
// controller's and the quota admission's, written through the status subresource only.
import type { KubeObject, StatusCause } from '../../types.ts';
import { schemaFor } from '../../api/schemas.ts';
import { invalid, qualifiedNameErrors, required } from '../../api/validation.ts';
import { AGE, NAME } from '../../api/printers.ts';
import { formatQuantity, parseList, tryParseExact } from '../../api/exact-quantity.ts';
import { QUOTA_SCOPES, isIntegerResourceName, isStandardQuotaResourceName, isStandardResourceName, scopeFitsResource } from '../../quota/resource-names.ts';
import { defineStrategy, NAMES, resetStatus } from '../define.ts';
import { resourceInfo } from '../strategy.ts';

const QUANTITY_PATTERN = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** validateResourceName then ValidateResourceQuotaResourceName. */
function quotaResourceNameErrors(field: string, name: string): StatusCause[] {
  const out = qualifiedNameErrors(field, name);
  if (out.length) return out;
  if (!name.includes('/')) {
    if (!isStandardResourceName(name)) out.push(invalid(field, name, 'must be a standard resource type or fully qualified'));
    if (!isStandardQuotaResourceName(name)) out.push(invalid(field, name, 'must be a standard resource for quota'));
  }
  return out;
}

/** ValidateResourceQuantityValue: a quantity, not negative, whole for object counts. */
export function quotaQuantityErrors(field: string, name: string, value: unknown): StatusCause[] {
  const q = tryParseExact(value);
  if (!q) return [invalid(field, value, QUANTITY_PATTERN)];
  const out: StatusCause[] = [];
  if (q.nanos < 0n) out.push(invalid(field, formatQuantity(q), 'must be greater than or equal to 0'));
  if (isIntegerResourceName(name) && q.nanos % 1_000_000_000n !== 0n) out.push(invalid(field, formatQuantity(q), 'must be an integer'));
  return out;
}

const CONFLICTING = [['BestEffort', 'NotBestEffort'], ['Terminating', 'NotTerminating']];
const EXISTS_ONLY = new Set(['BestEffort', 'NotBestEffort', 'Terminating', 'NotTerminating', 'CrossNamespacePodAffinity']);

function scopeErrors(spec: any): StatusCause[] {
  const out: StatusCause[] = [];
  const hard = Object.keys(spec.hard ?? {}).sort();
  const scopes: string[] = Array.isArray(spec.scopes) ? spec.scopes : [];
  for (const scope of scopes) {
    if (!(QUOTA_SCOPES as readonly string[]).includes(scope)) out.push(invalid('spec.scopes', scopes, 'unsupported scope'));
    for (const k of hard) if (isStandardQuotaResourceName(k) && !scopeFitsResource(scope, k)) out.push(invalid('spec.scopes', scopes, 'unsupported scope applied to resource'));
  }
  for (const pair of CONFLICTING) if (pair.every((p) => scopes.includes(p))) out.push(invalid('spec.scopes', scopes, 'conflicting scopes'));

  const selector = spec.scopeSelector;
  if (!selector) return out;
  const f = 'spec.scopeSelector.matchExpressions';
  const exprs: any[] = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  const names: string[] = [];
  for (const req of exprs) {
    const scopeName = req?.scopeName ?? '';
    const operator = req?.operator ?? '';
    const values: unknown[] = Array.isArray(req?.values) ? req.values : [];
    if (!(QUOTA_SCOPES as readonly string[]).includes(scopeName)) out.push(invalid(`${f}.scopeName`, scopeName, 'unsupported scope'));
    for (const k of hard) if (isStandardQuotaResourceName(k) && !scopeFitsResource(scopeName, k)) out.push(invalid(f, selector, 'unsupported scope applied to resource'));
    if (EXISTS_ONLY.has(scopeName) && operator !== 'Exists') {
      out.push(invalid(`${f}.operator`, operator, "must be 'Exist' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity"));
    }
    if (operator === 'In' || operator === 'NotIn') {
      if (!values.length) out.push(required(`${f}.values`, "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
    } else if (operator === 'Exists' || operator === 'DoesNotExist') {
      if (values.length) out.push(invalid(`${f}.values`, values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
    } else {
      out.push(invalid(`${f}.operator`, operator, 'not a valid selector operator'));
    }
    names.push(scopeName);
  }
  for (const pair of CONFLICTING) if (pair.every((p) => names.includes(p))) out.push(invalid(f, selector, 'conflicting scopes'));
  return out;
}

function quotaErrors(rq: KubeObject): StatusCause[] {
  const spec = rq.spec ?? {};
  const out: StatusCause[] = [];
  for (const [name, value] of Object.entries(spec.hard ?? {})) {
    const f = `spec.hard[${name}]`;
    out.push(...quotaResourceNameErrors(f, name), ...quotaQuantityErrors(f, name, value));
  }
  out.push(...scopeErrors(spec));
  return out;
}

/** kubectl's REQUEST / LIMIT cells: `name: used/hard` of each status.hard resource, limits.* in LIMIT. */
function usageCells(rq: KubeObject): { request: string; limit: string } {
  const hard = rq.status?.hard ?? {};
  const used = parseList(rq.status?.used);
  const request: string[] = [];
  const limit: string[] = [];
  for (const name of Object.keys(hard).sort()) {
    const h = tryParseExact(hard[name]);
    const cell = `${name}: ${used[name] ? formatQuantity(used[name]) : '0'}/${h ? formatQuantity(h) : String(hard[name])}`;
    const pieces = name.split('.');
    (pieces.length > 1 && pieces[0] === 'limits' ? limit : request).push(cell);
  }
  return { request: request.join(', '), limit: limit.join(', ') };
}

export const resourceQuotaStrategy = defineStrategy({
  resource: resourceInfo({ plural: 'resourcequotas', kind: 'ResourceQuota', shortNames: ['quota'], subresources: ['status'] }),
  schema: schemaFor('ResourceQuota'),
  statusSubresource: true,
  nameErrors: NAMES.subdomain,
  prepareForCreate: resetStatus(() => ({})),
  validate: quotaErrors,
  columns: [
    NAME,
    AGE,
    { name: 'Request', description: 'Request represents a minimum amount of cpu/memory that a container may consume.', cell: (rq) => usageCells(rq).request },
    { name: 'Limit', description: 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.', cell: (rq) => usageCells(rq).limit },
  ],
});
