// Label and field selectors: the string forms of the API's query parameters and the LabelSelector
// objects of Deployments and ReplicaSets, parsed once into predicates.
import type { KubeObject, LabelSelector } from '../types.ts';
import { BadRequestError } from '../errors.ts';

export type LabelRequirement =
  | { key: string; op: 'In' | 'NotIn'; values: string[] }
  | { key: string; op: 'Exists' | 'DoesNotExist' };

export type Labels = Record<string, string> | undefined;

export function matchesRequirements(labels: Labels, reqs: LabelRequirement[]): boolean {
  const l = labels ?? {};
  for (const r of reqs) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'In':
        if (!has || !r.values.includes(l[r.key])) return false;
        break;
      case 'NotIn':
        if (has && r.values.includes(l[r.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

// A qualified name: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters.
const NAME = String.raw`[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?`;
const KEY = String.raw`([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?${NAME}`;
const VALUE = String.raw`(${NAME})?`;

/**
 * Parses kubectl's selector syntax: `a=b,c!=d,e in (x,y),f notin (z),g,!h`.
 * Throws BadRequestError naming the offending term.
 */
export function parseLabelSelector(input: string | undefined): LabelRequirement[] {
  if (!input || !input.trim()) return [];
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of input) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else current += ch;
  }
  terms.push(current);
  const reqs: LabelRequirement[] = [];
  const keyRe = new RegExp(`^${KEY}$`);
  const valueRe = new RegExp(`^${VALUE}$`);
  const fail = (term: string, why: string) => new BadRequestError(`unable to parse requirement: ${why} in "${term.trim()}"`);
  for (const raw of terms) {
    const term = raw.trim();
    if (!term) throw fail(raw, 'empty requirement');
    let m: RegExpExecArray | null;
    if ((m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term))) {
      const values = m[3].split(',').map((v) => v.trim());
      if (!keyRe.test(m[1])) throw fail(term, `invalid label key "${m[1]}"`);
      for (const v of values) if (!valueRe.test(v)) throw fail(term, `invalid label value "${v}"`);
      reqs.push({ key: m[1], op: m[2] === 'in' ? 'In' : 'NotIn', values });
    } else if ((m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term))) {
      if (!keyRe.test(m[1])) throw fail(term, `invalid label key "${m[1]}"`);
      if (!valueRe.test(m[3])) throw fail(term, `invalid label value "${m[3]}"`);
      reqs.push({ key: m[1], op: m[2] === '!=' ? 'NotIn' : 'In', values: [m[3]] });
    } else if ((m = /^!\s*(\S+)$/.exec(term))) {
      if (!keyRe.test(m[1])) throw fail(term, `invalid label key "${m[1]}"`);
      reqs.push({ key: m[1], op: 'DoesNotExist' });
    } else if (keyRe.test(term)) {
      reqs.push({ key: term, op: 'Exists' });
    } else {
      throw fail(term, 'found unexpected token');
    }
  }
  return reqs;
}

/** A LabelSelector object (matchLabels + matchExpressions) as requirements. */
export function selectorRequirements(selector: LabelSelector | undefined): LabelRequirement[] {
  if (!selector) return [];
  const reqs: LabelRequirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, v]) => ({ key, op: 'In' as const, values: [v] }));
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator === 'In' || e.operator === 'NotIn') reqs.push({ key: e.key, op: e.operator, values: e.values ?? [] });
    else reqs.push({ key: e.key, op: e.operator });
  }
  return reqs;
}

/** True when the selector matches the labels. An empty selector matches everything (as in Kubernetes). */
export function selectorMatches(selector: LabelSelector | undefined, labels: Labels): boolean {
  return matchesRequirements(labels, selectorRequirements(selector));
}

/**
 * The selector as Kubernetes prints it (Scale.status.selector, `-o wide`, describe): requirements
 * sorted by key, matchLabels as `key=value`, expressions as sets with sorted values.
 */
export function formatSelector(selector: LabelSelector | undefined): string {
  if (!selector) return '';
  const terms: [string, string][] = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => [k, `${k}=${v}`]);
  for (const e of selector.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    const text = e.operator === 'In' ? `${e.key} in (${values})` : e.operator === 'NotIn' ? `${e.key} notin (${values})` : e.operator === 'Exists' ? e.key : `!${e.key}`;
    terms.push([e.key, text]);
  }
  return terms.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, t]) => t).join(',');
}

export interface FieldRequirement {
  field: string;
  value: string;
  negate: boolean;
}

// The fields each kind can be selected by (Kubernetes' field label conversion functions).
const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];
const FIELDS_BY_KIND: Record<string, string[]> = {
  Pod: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  Event: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  Node: ['spec.unschedulable'],
  Namespace: ['status.phase'],
  Secret: ['type'],
  ReplicaSet: ['status.replicas'],
};

export function parseFieldSelector(input: string | undefined, kind: string): FieldRequirement[] {
  if (!input || !input.trim()) return [];
  const allowed = [...COMMON_FIELDS, ...(FIELDS_BY_KIND[kind] ?? [])];
  return input.split(',').map((raw) => {
    const term = raw.trim();
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(term);
    if (!m) throw new BadRequestError(`invalid selector: '${input}'; can't understand '${term}'`);
    const field = m[1].trim();
    if (!allowed.includes(field)) throw new BadRequestError(`field label not supported: ${field}`);
    return { field, value: m[3].trim(), negate: m[2] === '!=' };
  });
}

// Values an absent field selects as (Go's zero values in Kubernetes' field label functions).
const ZERO_VALUES: Record<string, string> = { 'spec.unschedulable': 'false', 'status.replicas': '0' };

function fieldValue(obj: KubeObject, path: string): string {
  if (path === 'source') return String(obj.source?.component ?? obj.reportingComponent ?? '');
  let v: any = obj;
  for (const part of path.split('.')) v = v?.[part];
  return v === undefined || v === null ? ZERO_VALUES[path] ?? '' : String(v);
}

export function matchesFields(obj: KubeObject, reqs: FieldRequirement[]): boolean {
  return reqs.every((r) => (fieldValue(obj, r.field) === r.value) !== r.negate);
}
