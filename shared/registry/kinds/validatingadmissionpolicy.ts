// admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding
// (Kubernetes pkg/apis/admissionregistration/validation, defaults in v1/defaults.go): CEL policies
// the write path enforces (shared/admission/policies.ts). Every expression is compiled when the
// object is written, as Kubernetes' validation does.
import type { KubeObject, StatusCause } from '../../types.ts';
import { objectMeta } from '../../api/schemas.ts';
import { dnsSubdomainErrors, duplicate, forbidden, invalid, labelSelectorErrors, qualifiedNameErrors, required, unsupported } from '../../api/validation.ts';
import { AGE, NAME } from '../../api/printers.ts';
import { compile, isCompileError } from '../../api/cel.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo } from '../strategy.ts';

type Schema = Record<string, any>;
const str: Schema = { type: 'string' };
const strArr: Schema = { type: 'array', items: str };
const open: Schema = { type: 'object' };
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', properties, additionalProperties: false, ...(required.length ? { required } : {}) });

const namedRule = obj({ resourceNames: strArr, operations: strArr, apiGroups: strArr, apiVersions: strArr, resources: strArr, scope: str });
const matchResources = obj({
  namespaceSelector: open,
  objectSelector: open,
  resourceRules: { type: 'array', items: namedRule },
  excludeResourceRules: { type: 'array', items: namedRule },
  matchPolicy: str,
});
const policySpec = obj({
  paramKind: obj({ apiVersion: str, kind: str }),
  matchConstraints: matchResources,
  validations: { type: 'array', items: obj({ expression: str, message: str, reason: str, messageExpression: str }) },
  failurePolicy: str,
  auditAnnotations: { type: 'array', items: obj({ key: str, valueExpression: str }) },
  matchConditions: { type: 'array', items: obj({ name: str, expression: str }) },
  variables: { type: 'array', items: obj({ name: str, expression: str }) },
});
const bindingSpec = obj({
  policyName: str,
  paramRef: obj({ name: str, namespace: str, selector: open, parameterNotFoundAction: str }),
  matchResources,
  validationActions: strArr,
});

const POLICY_SCHEMA: Schema = {
  ...obj({ apiVersion: str, kind: str, metadata: objectMeta, spec: policySpec, status: open }),
  description: 'ValidatingAdmissionPolicy describes the definition of an admission validation policy that accepts or rejects an object without changing it.',
};
const BINDING_SCHEMA: Schema = {
  ...obj({ apiVersion: str, kind: str, metadata: objectMeta, spec: bindingSpec }),
  description: 'ValidatingAdmissionPolicyBinding binds the ValidatingAdmissionPolicy with paramerized resources.',
};

/** The variables a policy's expressions may read (Kubernetes' validating admission policy environment). */
export const POLICY_VARIABLES = ['object', 'oldObject', 'request', 'params', 'namespaceObject', 'variables'];
const DECLARED = Object.fromEntries(POLICY_VARIABLES.map((v) => [v, undefined]));

export const VALIDATION_REASONS = ['Unauthorized', 'Forbidden', 'Invalid', 'RequestEntityTooLarge'];
const OPERATIONS = ['*', 'CREATE', 'UPDATE', 'DELETE', 'CONNECT'];
const CEL_IDENTIFIER = /^[_a-zA-Z][_a-zA-Z0-9]*$/;

function defaultMatch(m: any): void {
  if (!m || typeof m !== 'object') return;
  m.namespaceSelector ??= {};
  m.objectSelector ??= {};
  m.matchPolicy ??= 'Equivalent';
  for (const r of [...(m.resourceRules ?? []), ...(m.excludeResourceRules ?? [])]) if (r && typeof r === 'object') r.scope ??= '*';
}

function expressionErrors(expression: unknown, field: string, expect?: 'bool' | 'string'): StatusCause[] {
  if (typeof expression !== 'string' || !expression.trim()) return [required(field)];
  const c = compile(expression, DECLARED, expect);
  if (!isCompileError(c)) return [];
  return [invalid(field, expression, c.typeError ? c.error : `compilation failed: ${c.error}`)];
}

function rulesErrors(rules: any[], field: string): StatusCause[] {
  const out: StatusCause[] = [];
  rules.forEach((r: any, j: number) => {
    const rf = `${field}[${j}]`;
    if (!r?.operations?.length) out.push(required(`${rf}.operations`));
    (r?.operations ?? []).forEach((op: string, k: number) => { if (!OPERATIONS.includes(op)) out.push(unsupported(`${rf}.operations[${k}]`, op, OPERATIONS)); });
    if (!r?.apiGroups?.length) out.push(required(`${rf}.apiGroups`));
    if (!r?.apiVersions?.length) out.push(required(`${rf}.apiVersions`));
    if (!r?.resources?.length) out.push(required(`${rf}.resources`));
    if (!['*', 'Cluster', 'Namespaced'].includes(r?.scope)) out.push(unsupported(`${rf}.scope`, r?.scope, ['*', 'Cluster', 'Namespaced']));
  });
  return out;
}

function matchResourcesErrors(m: any, field: string, requireRules: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  if (!m) return requireRules ? [required(field)] : [];
  if (requireRules && !m.resourceRules?.length) out.push(required(`${field}.resourceRules`));
  out.push(...rulesErrors(m.resourceRules ?? [], `${field}.resourceRules`), ...rulesErrors(m.excludeResourceRules ?? [], `${field}.excludeResourceRules`));
  out.push(...labelSelectorErrors(`${field}.namespaceSelector`, m.namespaceSelector), ...labelSelectorErrors(`${field}.objectSelector`, m.objectSelector));
  if (!['Exact', 'Equivalent'].includes(m.matchPolicy)) out.push(unsupported(`${field}.matchPolicy`, m.matchPolicy, ['Equivalent', 'Exact']));
  return out;
}

/** ValidateValidatingAdmissionPolicy, in its words. */
export function policyErrors(p: KubeObject): StatusCause[] {
  const spec = p.spec ?? {};
  const out: StatusCause[] = [];
  if (spec.paramKind !== undefined) {
    const k = spec.paramKind ?? {};
    if (!k.apiVersion) out.push(required('spec.paramKind.apiVersion'));
    else if (String(k.apiVersion).split('/').length > 2) out.push(invalid('spec.paramKind.apiVersion', k.apiVersion, 'apiVersion must be a valid group/version'));
    if (!k.kind) out.push(required('spec.paramKind.kind'));
  }
  out.push(...matchResourcesErrors(spec.matchConstraints, 'spec.matchConstraints', true));
  if (!['Fail', 'Ignore'].includes(spec.failurePolicy)) out.push(unsupported('spec.failurePolicy', spec.failurePolicy, ['Fail', 'Ignore']));
  const validations: any[] = spec.validations ?? [];
  const audits: any[] = spec.auditAnnotations ?? [];
  if (!validations.length && !audits.length) out.push(required('spec.validations', 'validations or auditAnnotations must contain at least one item'));
  validations.forEach((v, i) => {
    const f = `spec.validations[${i}]`;
    out.push(...expressionErrors(v?.expression, `${f}.expression`, 'bool'));
    if (typeof v?.message === 'string' && /[\r\n]/.test(v.message)) out.push(invalid(`${f}.message`, v.message, 'message must not contain line breaks'));
    if (v?.reason !== undefined && !VALIDATION_REASONS.includes(v.reason)) out.push(unsupported(`${f}.reason`, v.reason, VALIDATION_REASONS));
    if (v?.messageExpression !== undefined) out.push(...expressionErrors(v.messageExpression, `${f}.messageExpression`, 'string'));
  });
  audits.forEach((a, i) => {
    const f = `spec.auditAnnotations[${i}]`;
    if (!a?.key) out.push(required(`${f}.key`));
    out.push(...expressionErrors(a?.valueExpression, `${f}.valueExpression`));
  });
  const conditionNames = new Set<string>();
  (spec.matchConditions ?? []).forEach((c: any, i: number) => {
    const f = `spec.matchConditions[${i}]`;
    if (!c?.name) out.push(required(`${f}.name`));
    else {
      out.push(...qualifiedNameErrors(`${f}.name`, c.name));
      if (conditionNames.has(c.name)) out.push(duplicate(`${f}.name`, c.name));
      conditionNames.add(c.name);
    }
    out.push(...expressionErrors(c?.expression, `${f}.expression`, 'bool'));
  });
  const variableNames = new Set<string>();
  (spec.variables ?? []).forEach((v: any, i: number) => {
    const f = `spec.variables[${i}]`;
    if (!v?.name) out.push(required(`${f}.name`));
    else {
      if (!CEL_IDENTIFIER.test(v.name)) out.push(invalid(`${f}.name`, v.name, 'name is not a valid CEL identifier'));
      if (variableNames.has(v.name)) out.push(duplicate(`${f}.name`, v.name));
      variableNames.add(v.name);
    }
    out.push(...expressionErrors(v?.expression, `${f}.expression`));
  });
  return out;
}

const ACTIONS = ['Audit', 'Deny', 'Warn'];

/** ValidateValidatingAdmissionPolicyBinding, in its words. */
export function bindingErrors(b: KubeObject): StatusCause[] {
  const spec = b.spec ?? {};
  const out: StatusCause[] = [];
  if (!spec.policyName) out.push(required('spec.policyName'));
  else out.push(...dnsSubdomainErrors('spec.policyName', spec.policyName));
  const ref = spec.paramRef;
  if (ref !== undefined) {
    if (ref.name && ref.selector) out.push(forbidden('spec.paramRef.name', 'name and selector are mutually exclusive'));
    if (!ref.name && !ref.selector) out.push(required('spec.paramRef', 'one of name or selector must be specified'));
    if (ref.name) out.push(...dnsSubdomainErrors('spec.paramRef.name', ref.name));
    if (ref.selector) out.push(...labelSelectorErrors('spec.paramRef.selector', ref.selector));
    if (!ref.parameterNotFoundAction) out.push(required('spec.paramRef.parameterNotFoundAction'));
    else if (!['Allow', 'Deny'].includes(ref.parameterNotFoundAction)) out.push(unsupported('spec.paramRef.parameterNotFoundAction', ref.parameterNotFoundAction, ['Allow', 'Deny']));
  }
  out.push(...matchResourcesErrors(spec.matchResources, 'spec.matchResources', false));
  const actions: unknown[] = spec.validationActions ?? [];
  if (!actions.length) out.push(required('spec.validationActions', 'at least one validation action is required'));
  const seen = new Set<unknown>();
  actions.forEach((a, i) => {
    if (!ACTIONS.includes(a as string)) out.push(unsupported(`spec.validationActions[${i}]`, a, ACTIONS));
    if (seen.has(a)) out.push(duplicate(`spec.validationActions[${i}]`, a));
    seen.add(a);
  });
  if (seen.has('Deny') && seen.has('Warn')) out.push(invalid('spec.validationActions', actions, 'must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)'));
  return out;
}

export const VALIDATING_POLICIES = 'validatingadmissionpolicies';
export const VALIDATING_POLICY_BINDINGS = 'validatingadmissionpolicybindings';

export const validatingAdmissionPolicyStrategy = defineStrategy({
  resource: resourceInfo({ group: 'admissionregistration.k8s.io', plural: VALIDATING_POLICIES, kind: 'ValidatingAdmissionPolicy', namespaced: false, categories: ['api-extensions'], subresources: ['status'] }),
  schema: POLICY_SCHEMA,
  statusSubresource: true,
  generation: true,
  nameErrors: NAMES.subdomain,
  defaults(p) {
    if (!p.spec || typeof p.spec !== 'object') return;
    p.spec.failurePolicy ??= 'Fail';
    defaultMatch(p.spec.matchConstraints);
  },
  validate: policyErrors,
  columns: [NAME, { name: 'Validations', type: 'integer', description: 'Validations indicates the number of validation rules.', cell: (p) => (p.spec?.validations ?? []).length }, { name: 'ParamKind', type: 'string', description: 'ParamKind specifies the kind of resources used to parameterize this policy', cell: (p) => (p.spec?.paramKind ? `${p.spec.paramKind.apiVersion}/${p.spec.paramKind.kind}` : '<unset>') }, AGE],
});

export const validatingAdmissionPolicyBindingStrategy = defineStrategy({
  resource: resourceInfo({ group: 'admissionregistration.k8s.io', plural: VALIDATING_POLICY_BINDINGS, kind: 'ValidatingAdmissionPolicyBinding', namespaced: false, categories: ['api-extensions'] }),
  schema: BINDING_SCHEMA,
  generation: true,
  nameErrors: NAMES.subdomain,
  defaults(b) {
    if (!b.spec || typeof b.spec !== 'object') return;
    defaultMatch(b.spec.matchResources);
  },
  validate: bindingErrors,
  columns: [NAME, { name: 'PolicyName', type: 'string', description: 'PolicyName references a ValidatingAdmissionPolicy name', cell: (b) => b.spec?.policyName ?? '' }, { name: 'ParamRef', type: 'string', description: 'ParamRef specifies the parameter resource', cell: (b) => (b.spec?.paramRef ? `${b.spec.paramRef.namespace ? `${b.spec.paramRef.namespace}/` : ''}${b.spec.paramRef.name ?? '*'}` : '<unset>') }, AGE],
});

