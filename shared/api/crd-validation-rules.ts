// A CustomResourceDefinition's CEL validation rules (x-kubernetes-validations) as Kubernetes'
// apiextensions-apiserver checks them: compiled when the CRD is written (a rule that does not
// compile refuses the CRD, apiextensions validation), then run on every write of a custom resource
// (pkg/apiserver/schema/cel/validation.go): each rule with `self` bound to the value at its schema
// node, transition rules (those reading `oldSelf`) only on an update where the node has an old
// value it correlates with (same object key, same list-map key; never items of other lists), or,
// with optionalOldSelf, on every write with oldSelf an optional (none on a create or where nothing
// correlates).
// Failures are field errors in Kubernetes 1.32's words. Pure: no I/O.
import type { StatusCause } from '../types.ts';
import { compile, isCompileError, optionalOf, OPTIONAL_NAMESPACE, toCel, type CompiledExpression, type JSONSchemaProps, type StaticType } from './cel.ts';
import { show } from './validation.ts';

const REASONS = ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired'];

interface CompiledRule {
  rule: any;
  program?: CompiledExpression;
  message?: CompiledExpression;
  /** The rule's fieldPath, normalised to a field path below the node ("spec.replicas"). */
  fieldPath?: string;
  transition: boolean;
  /** optionalOldSelf: oldSelf is an optional, and the rule runs where it is none too. */
  optional: boolean;
}

/** What a rule's expressions may name: self and oldSelf (an optional under optionalOldSelf, whose fields are not known), and optional.none()/of(). */
function variablesFor(schema: JSONSchemaProps, root: boolean, rule: any): Record<string, StaticType> {
  return { self: { schema, root }, oldSelf: rule?.optionalOldSelf === true ? undefined : { schema, root }, optional: undefined };
}

/** Go's %#v of an apiextensions.ValidationRule, as Kubernetes prints the rule it refuses. */
function goRule(r: any): string {
  const q = (v: unknown) => JSON.stringify(typeof v === 'string' ? v : '');
  const reason = r.reason === undefined ? '(*apiextensions.FieldValueErrorReason)(nil)' : `(*apiextensions.FieldValueErrorReason)(${q(r.reason)})`;
  const optional = r.optionalOldSelf === undefined ? '(*bool)(nil)' : `(*bool)(${r.optionalOldSelf})`;
  return `apiextensions.ValidationRule{Rule:${q(r.rule)}, Message:${q(r.message)}, MessageExpression:${q(r.messageExpression)}, Reason:${reason}, FieldPath:${q(r.fieldPath)}, OptionalOldSelf:${optional}}`;
}

/**
 * A rule's fieldPath (".spec.x", ".map['key']") checked against the schema under the node and
 * normalised as Kubernetes' ValidFieldPath does; an error string when it names no field.
 */
export function normaliseFieldPath(path: string, schema: JSONSchemaProps): { path: string } | { error: string } {
  const tokens = path.match(/\[\s*'(?:[^'\\]|\\.)*'\s*\]|\.[^.[\]]+|./g) ?? [];
  let s: JSONSchemaProps | undefined = schema;
  let out = '';
  for (const t of tokens) {
    let name: string;
    if (t.startsWith('[')) {
      const m = /^\[\s*'((?:[^'\\]|\\.)*)'\s*\]$/.exec(t);
      if (!m) return { error: `expected single quoted string but got ${t.slice(1, -1)}` };
      name = m[1].replace(/\\(.)/g, '$1');
    } else if (t.startsWith('.') && t.length > 1) name = t.slice(1);
    else return { error: `expected [ or . but got: ${t}` };
    if (s?.properties) {
      if (!(name in s.properties)) return { error: 'does not refer to a valid field' };
      out = out ? `${out}.${name}` : name;
      s = s.properties[name];
    } else if (s?.additionalProperties && typeof s.additionalProperties === 'object') {
      out = `${out}[${name}]`;
      s = s.additionalProperties;
    } else return { error: 'does not refer to a valid field' };
  }
  return { path: out };
}

const compiledRules = new WeakMap<object, CompiledRule[]>();

/** The node's rules compiled (cached per schema node: a CRD's schema is not mutated once served). */
function rulesAt(schema: JSONSchemaProps, root: boolean): CompiledRule[] {
  let rules = compiledRules.get(schema);
  if (rules) return rules;
  rules = (schema['x-kubernetes-validations'] as any[]).map((rule) => {
    const vars = variablesFor(schema, root, rule);
    const program = compile(String(rule?.rule ?? ''), vars);
    const message = rule?.messageExpression ? compile(String(rule.messageExpression), vars) : undefined;
    const fieldPath = rule?.fieldPath ? normaliseFieldPath(rule.fieldPath, schema) : undefined;
    return {
      rule,
      program: isCompileError(program) ? undefined : program,
      message: message && !isCompileError(message) ? message : undefined,
      fieldPath: fieldPath && 'path' in fieldPath ? fieldPath.path : undefined,
      transition: !isCompileError(program) && program.references.has('oldSelf'),
      optional: rule?.optionalOldSelf === true && !isCompileError(program) && program.references.has('oldSelf'),
    };
  });
  compiledRules.set(schema, rules);
  return rules;
}

// ---- the CRD: rules that compile ------------------------------------------------------------

/**
 * The errors of every x-kubernetes-validations in a CRD version's schema, named from `field`
 * (spec.validation.openAPIV3Schema or spec.versions[i].schema.openAPIV3Schema), in Kubernetes' words.
 */
export function validationRuleErrors(schema: JSONSchemaProps, field: string): StatusCause[] {
  const out: StatusCause[] = [];
  walkRules(schema, field, true, true, out);
  return out;
}

function walkRules(s: JSONSchemaProps, field: string, root: boolean, correlatable: boolean, out: StatusCause[]): void {
  if (!s || typeof s !== 'object' || Array.isArray(s)) return;
  const rules = s['x-kubernetes-validations'];
  if (rules !== undefined) {
    if (!Array.isArray(rules)) out.push({ reason: 'FieldValueInvalid', field: `${field}.x-kubernetes-validations`, message: 'Invalid value: must be a list of rules' });
    else rules.forEach((r: any, i: number) => out.push(...ruleErrors(s, r, `${field}.x-kubernetes-validations[${i}]`, root, correlatable, field)));
  }
  for (const [k, v] of Object.entries<JSONSchemaProps>(s.properties ?? {})) walkRules(v, `${field}.properties[${k}]`, false, correlatable, out);
  if (s.items && typeof s.items === 'object' && !Array.isArray(s.items)) {
    // Items of a list correlate with old items only by list-map keys.
    walkRules(s.items, `${field}.items`, false, correlatable && s['x-kubernetes-list-type'] === 'map', out);
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object') walkRules(s.additionalProperties, `${field}.additionalProperties`, false, correlatable, out);
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) (s[key] ?? []).forEach?.((v: JSONSchemaProps, i: number) => walkRules(v, `${field}.${key}[${i}]`, false, correlatable, out));
}

function ruleErrors(s: JSONSchemaProps, r: any, field: string, root: boolean, correlatable: boolean, nodeField: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (!r || typeof r !== 'object') return [{ reason: 'FieldValueInvalid', field, message: 'Invalid value: must be an object' }];
  const rule = typeof r.rule === 'string' ? r.rule : '';
  if (!rule.trim()) out.push({ reason: 'FieldValueRequired', field: `${field}.rule`, message: 'Required value' });
  if (typeof r.message === 'string' && /[\r\n]/.test(r.message)) out.push({ reason: 'FieldValueInvalid', field: `${field}.message`, message: `Invalid value: ${show(r.message)}: message must not contain line breaks` });
  if (/[\r\n]/.test(rule) && !r.message) out.push({ reason: 'FieldValueRequired', field: `${field}.message`, message: 'Required value: message must be specified if rule contains line breaks' });
  if (r.reason !== undefined && !REASONS.includes(r.reason)) out.push({ reason: 'FieldValueNotSupported', field: `${field}.reason`, message: `Unsupported value: ${show(r.reason)}: supported values: ${REASONS.map((x) => JSON.stringify(x)).join(', ')}` });
  if (r.fieldPath !== undefined) {
    const p = typeof r.fieldPath === 'string' ? normaliseFieldPath(r.fieldPath, s) : { error: 'must be a string' };
    if ('error' in p) out.push({ reason: 'FieldValueInvalid', field: `${field}.fieldPath`, message: `Invalid value: ${show(r.fieldPath)}: fieldPath must be a valid path: ${p.error}` });
  }
  if (!rule.trim()) return out;
  const vars = variablesFor(s, root, r);
  const program = compile(rule, vars, 'bool');
  if (isCompileError(program)) out.push({ reason: 'FieldValueInvalid', field: `${field}.rule`, message: `Invalid value: ${goRule(r)}: ${program.typeError ? '' : 'compilation failed: '}${program.error}` });
  else if (program.references.has('oldSelf') && !correlatable) {
    out.push({ reason: 'FieldValueInvalid', field: `${field}.rule`, message: `Invalid value: ${goRule(r)}: oldSelf cannot be used on the uncorrelatable portion of the schema within ${nodeField}` });
  }
  if (r.optionalOldSelf === true && !isCompileError(program) && !program.references.has('oldSelf')) {
    out.push({ reason: 'FieldValueInvalid', field: `${field}.optionalOldSelf`, message: 'Invalid value: true: may not be set if oldSelf is not used in rule' });
  }
  if (r.messageExpression !== undefined) {
    const m = typeof r.messageExpression === 'string' && r.messageExpression.trim() ? compile(r.messageExpression, vars, 'string') : { error: 'must be non-empty if specified', typeError: true };
    if (isCompileError(m)) out.push({ reason: 'FieldValueInvalid', field: `${field}.messageExpression`, message: `Invalid value: ${goRule(r)}: ${m.typeError ? 'messageExpression ' : 'messageExpression compilation failed: '}${m.error}` });
  }
  return out;
}

// ---- a custom resource: rules that hold ------------------------------------------------------

/**
 * Which rules a pass runs: 'plain' those without oldSelf (every write); 'create' the
 * optionalOldSelf rules with oldSelf none (a create); 'transition' the rules reading oldSelf on an
 * update (those without optionalOldSelf only where an old value correlates).
 */
export type RulePass = 'plain' | 'create' | 'transition';

const childPath = (path: string, name: string) => (path ? `${path}.${name}` : name);

function causeFor(s: JSONSchemaProps, c: CompiledRule, nodePath: string, detail: string): StatusCause {
  const field = c.fieldPath ? (c.fieldPath.startsWith('[') ? `${nodePath}${c.fieldPath}` : childPath(nodePath, c.fieldPath)) : nodePath;
  const shownField = field || '<nil>';
  const type = JSON.stringify(String(s.type ?? ''));
  switch (c.rule.reason) {
    case 'FieldValueForbidden':
      return { reason: 'FieldValueForbidden', field: shownField, message: `Forbidden: ${detail}` };
    case 'FieldValueRequired':
      return { reason: 'FieldValueRequired', field: shownField, message: `Required value: ${detail}` };
    case 'FieldValueDuplicate':
      return { reason: 'FieldValueDuplicate', field: shownField, message: `Duplicate value: ${type}` };
    default:
      return { reason: 'FieldValueInvalid', field: shownField, message: `Invalid value: ${type}: ${detail}` };
  }
}

function ruleText(r: any): string {
  return String(r.message ? r.message : r.rule).trim();
}

function evaluateRules(s: JSONSchemaProps, value: unknown, old: unknown, path: string, root: boolean, pass: RulePass, out: StatusCause[]): void {
  const rules = rulesAt(s, root);
  const self = toCel(value, s);
  const oldSelf = old === undefined ? undefined : toCel(old, s);
  const nodeField = path || '<nil>';
  const type = JSON.stringify(String(s.type ?? ''));
  for (const c of rules) {
    if (!c.program) continue; // refused when the CRD was written; a stored CRD from before is not re-judged here
    if (pass === 'plain' && c.transition) continue;
    if (pass === 'create' && !c.optional) continue;
    if (pass === 'transition' && (!c.transition || (!c.optional && oldSelf === undefined))) continue;
    const bindings = { self, optional: OPTIONAL_NAMESPACE, ...(c.optional ? { oldSelf: optionalOf(oldSelf) } : oldSelf === undefined ? {} : { oldSelf }) };
    const result = c.program.evaluate(bindings);
    if ('error' in result) {
      out.push({ reason: 'FieldValueInvalid', field: nodeField, message: `Invalid value: ${type}: ${result.error} evaluating rule: ${ruleText(c.rule)}` });
      continue;
    }
    if (result.value === true) continue;
    if (typeof result.value !== 'boolean') {
      out.push({ reason: 'FieldValueInvalid', field: nodeField, message: `Invalid value: ${type}: rule did not evaluate to a bool evaluating rule: ${ruleText(c.rule)}` });
      continue;
    }
    let detail = c.rule.message ? String(c.rule.message).trim() : `failed rule: ${ruleText(c.rule)}`;
    if (c.message) {
      // As Kubernetes: a messageExpression that fails, or gives no one-line string, leaves the message.
      const m = c.message.evaluate(bindings);
      if ('value' in m && typeof m.value === 'string' && m.value.trim() && !/[\r\n]/.test(m.value)) detail = m.value;
    }
    out.push(causeFor(s, c, path, detail));
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Items of a list-map keyed by their map keys, to find an item's old self. */
function listMapKey(s: JSONSchemaProps, item: any): string | undefined {
  const keys: string[] = s['x-kubernetes-list-map-keys'] ?? [];
  if (!isPlainObject(item)) return undefined;
  return JSON.stringify(keys.map((k) => item[k] ?? s.items?.properties?.[k]?.default ?? null));
}

function walkValue(s: JSONSchemaProps | undefined, value: unknown, old: unknown, path: string, root: boolean, pass: RulePass, out: StatusCause[]): void {
  if (!s || typeof s !== 'object' || value === null || value === undefined) return;
  if (Array.isArray(s['x-kubernetes-validations']) && s['x-kubernetes-validations'].length) evaluateRules(s, value, old, path, root, pass, out);
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) for (const sub of s[key] ?? []) walkValue(sub, value, old, path, false, pass, out);
  if (Array.isArray(value)) {
    if (!s.items || typeof s.items !== 'object') return;
    const oldByKey = new Map<string, unknown>();
    if (s['x-kubernetes-list-type'] === 'map' && Array.isArray(old)) for (const o of old) { const k = listMapKey(s, o); if (k !== undefined) oldByKey.set(k, o); }
    value.forEach((item, i) => {
      const k = s['x-kubernetes-list-type'] === 'map' ? listMapKey(s, item) : undefined;
      walkValue(s.items, item, k === undefined ? undefined : oldByKey.get(k), `${path}[${i}]`, false, pass, out);
    });
    return;
  }
  if (!isPlainObject(value)) return;
  const oldObj = isPlainObject(old) ? old : undefined;
  for (const [k, v] of Object.entries(value)) {
    if (root && (k === 'metadata' || k === 'apiVersion' || k === 'kind')) continue;
    if (s.properties && k in s.properties) walkValue(s.properties[k], v, oldObj?.[k], childPath(path, k), false, pass, out);
    else if (s.additionalProperties && typeof s.additionalProperties === 'object') walkValue(s.additionalProperties, v, oldObj?.[k], `${path}[${k}]`, false, pass, out);
  }
}

/**
 * The rule failures of a custom resource (`obj`, already pruned and defaulted) under its version's
 * schema, the rules of one pass (see RulePass); `old` is an update's stored object.
 */
export function validationRuleFailures(schema: JSONSchemaProps | undefined, obj: unknown, pass: RulePass, old?: unknown): StatusCause[] {
  const out: StatusCause[] = [];
  if (!schema || !hasRules(schema)) return out;
  walkValue(schema, obj, pass === 'transition' ? old : undefined, '', true, pass, out);
  return out;
}

const ruleBearing = new WeakMap<object, boolean>();

/** Whether any node of the schema has rules (most CRDs have none: their writes skip the walk). */
export function hasRules(s: JSONSchemaProps): boolean {
  if (!s || typeof s !== 'object') return false;
  const known = ruleBearing.get(s);
  if (known !== undefined) return known;
  const found = (Array.isArray(s['x-kubernetes-validations']) && s['x-kubernetes-validations'].length > 0)
    || Object.values<JSONSchemaProps>(s.properties ?? {}).some(hasRules)
    || (typeof s.items === 'object' && hasRules(s.items))
    || (typeof s.additionalProperties === 'object' && hasRules(s.additionalProperties))
    || ['allOf', 'anyOf', 'oneOf'].some((k) => (s[k] ?? []).some?.(hasRules));
  ruleBearing.set(s, found);
  return found;
}
