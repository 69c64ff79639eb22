// admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration and MutatingWebhookConfiguration
// (Kubernetes pkg/apis/admissionregistration/validation, defaults in v1/defaults.go). What calls
// the webhooks is shared/admission/webhooks.ts, in the store's write path.
import type { KubeObject, StatusCause } from '../../types.ts';
import { objectMeta } from '../../api/schemas.ts';
import { dnsSubdomainErrors, duplicate, invalid, qualifiedNameErrors, required, unsupported } from '../../api/validation.ts';
import { compile, isCompileError } from '../../api/cel.ts';
import { WEBHOOK_CONDITION_VARIABLES } from '../../admission/cel-admission.ts';
import { AGE, NAME } from '../../api/printers.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo } from '../strategy.ts';

type Schema = Record<string, any>;
const str: Schema = { type: 'string' };
const strArr: Schema = { type: 'array', items: str };
const open: Schema = { type: 'object' };
const int: Schema = { type: 'integer' };
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', properties, additionalProperties: false, ...(required.length ? { required } : {}) });

const rule = obj({ operations: strArr, apiGroups: strArr, apiVersions: strArr, resources: strArr, scope: str });
const clientConfig = obj({
  url: str,
  service: obj({ namespace: str, name: str, path: str, port: int }, ['namespace', 'name']),
  caBundle: str,
});
const webhook = (mutating: boolean): Schema => obj({
  name: str,
  clientConfig,
  rules: { type: 'array', items: rule },
  failurePolicy: str,
  matchPolicy: str,
  namespaceSelector: open,
  objectSelector: open,
  sideEffects: str,
  timeoutSeconds: int,
  admissionReviewVersions: strArr,
  matchConditions: { type: 'array', items: open },
  ...(mutating ? { reinvocationPolicy: str } : {}),
}, ['name', 'clientConfig']);

const schemaOf = (kind: string, mutating: boolean): Schema => ({
  ...obj({ apiVersion: str, kind: str, metadata: objectMeta, webhooks: { type: 'array', items: webhook(mutating) } }),
  description: `${kind} describes admission webhooks called on writes (admissionregistration.k8s.io/v1).`,
});

const OPERATIONS = ['*', 'CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

/** Kubernetes' SetDefaults_ValidatingWebhook / MutatingWebhook and Rule. */
function defaults(config: KubeObject, mutating: boolean): void {
  for (const w of Array.isArray(config.webhooks) ? config.webhooks : []) {
    if (!w || typeof w !== 'object') continue;
    w.failurePolicy ??= 'Fail';
    w.matchPolicy ??= 'Equivalent';
    w.namespaceSelector ??= {};
    w.objectSelector ??= {};
    w.timeoutSeconds ??= 10;
    if (mutating) w.reinvocationPolicy ??= 'Never';
    for (const r of Array.isArray(w.rules) ? w.rules : []) if (r && typeof r === 'object') r.scope ??= '*';
    if (w.clientConfig?.service) w.clientConfig.service.port ??= 443;
  }
}

/** A webhook's matchConditions: at most 64, named uniquely, each expression compiling to a bool. */
function matchConditionErrors(conditions: unknown, field: string): StatusCause[] {
  if (conditions === undefined) return [];
  if (!Array.isArray(conditions)) return [invalid(field, conditions, 'must be a list')];
  const out: StatusCause[] = [];
  if (conditions.length > 64) out.push({ reason: 'FieldValueTooMany', field, message: `Too many: ${conditions.length}: must have at most 64 items` });
  const names = new Set<string>();
  conditions.forEach((c: any, i: number) => {
    const f = `${field}[${i}]`;
    if (!c?.name) out.push(required(`${f}.name`));
    else {
      out.push(...qualifiedNameErrors(`${f}.name`, c.name));
      if (names.has(c.name)) out.push(duplicate(`${f}.name`, c.name));
      names.add(c.name);
    }
    if (typeof c?.expression !== 'string' || !c.expression.trim()) out.push(required(`${f}.expression`));
    else {
      const compiled = compile(c.expression, WEBHOOK_CONDITION_VARIABLES, 'bool');
      if (isCompileError(compiled)) out.push(invalid(`${f}.expression`, c.expression, compiled.typeError ? compiled.error : `compilation failed: ${compiled.error}`));
    }
  });
  return out;
}

/** ValidateValidatingWebhookConfiguration / ValidateMutatingWebhookConfiguration, in its words. */
export function webhookConfigurationErrors(config: KubeObject, mutating: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  const names = new Set<string>();
  (config.webhooks ?? []).forEach((w: any, i: number) => {
    const f = `webhooks[${i}]`;
    if (!w.name) out.push(required(`${f}.name`));
    else {
      const bad = dnsSubdomainErrors(`${f}.name`, w.name);
      if (bad.length) out.push(...bad);
      else if (w.name.split('.').length < 3) out.push(invalid(`${f}.name`, w.name, 'should be a domain with at least three segments separated by dots'));
      if (names.has(w.name)) out.push(duplicate(`${f}.name`, w.name));
      names.add(w.name);
    }
    const cc = w.clientConfig ?? {};
    if (!cc.url === !cc.service) out.push(required(`${f}.clientConfig`, 'exactly one of url or service is required'));
    if (cc.url) {
      let u: URL | undefined;
      try { u = new URL(cc.url); } catch { out.push(invalid(`${f}.clientConfig.url`, cc.url, 'must be a valid URL')); }
      if (u && u.protocol !== 'https:') out.push(invalid(`${f}.clientConfig.url`, cc.url, "'https' is the only allowed URL scheme"));
      if (u && (u.search || u.hash)) out.push(invalid(`${f}.clientConfig.url`, cc.url, 'query parameters and fragments are not permitted'));
    }
    if (cc.service?.port !== undefined && (cc.service.port < 1 || cc.service.port > 65535)) out.push(invalid(`${f}.clientConfig.service.port`, cc.service.port, 'port is not valid: must be between 1 and 65535, inclusive'));
    if (cc.caBundle !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(cc.caBundle)) out.push(invalid(`${f}.clientConfig.caBundle`, '', 'must be base64'));
    if (!Array.isArray(w.admissionReviewVersions) || !w.admissionReviewVersions.length) out.push(required(`${f}.admissionReviewVersions`, 'must specify one of v1, v1beta1'));
    else if (!w.admissionReviewVersions.includes('v1')) out.push(invalid(`${f}.admissionReviewVersions`, w.admissionReviewVersions, 'must include at least one of v1: this server sends AdmissionReview v1 only'));
    if (!w.sideEffects) out.push(required(`${f}.sideEffects`));
    else if (!['None', 'NoneOnDryRun'].includes(w.sideEffects)) out.push(unsupported(`${f}.sideEffects`, w.sideEffects, ['None', 'NoneOnDryRun']));
    if (!['Fail', 'Ignore'].includes(w.failurePolicy)) out.push(unsupported(`${f}.failurePolicy`, w.failurePolicy, ['Fail', 'Ignore']));
    if (!['Exact', 'Equivalent'].includes(w.matchPolicy)) out.push(unsupported(`${f}.matchPolicy`, w.matchPolicy, ['Equivalent', 'Exact']));
    if (typeof w.timeoutSeconds !== 'number' || w.timeoutSeconds < 1 || w.timeoutSeconds > 30) out.push(invalid(`${f}.timeoutSeconds`, w.timeoutSeconds, 'the timeout value must be between 1 and 30 seconds'));
    if (mutating && !['Never', 'IfNeeded'].includes(w.reinvocationPolicy)) out.push(unsupported(`${f}.reinvocationPolicy`, w.reinvocationPolicy, ['IfNeeded', 'Never']));
    out.push(...matchConditionErrors(w.matchConditions, `${f}.matchConditions`));
    (w.rules ?? []).forEach((r: any, j: number) => {
      const rf = `${f}.rules[${j}]`;
      if (!r.operations?.length) out.push(required(`${rf}.operations`));
      (r.operations ?? []).forEach((op: string, k: number) => { if (!OPERATIONS.includes(op)) out.push(unsupported(`${rf}.operations[${k}]`, op, OPERATIONS)); });
      if (!r.apiGroups?.length) out.push(required(`${rf}.apiGroups`));
      if (!r.apiVersions?.length) out.push(required(`${rf}.apiVersions`));
      if (!r.resources?.length) out.push(required(`${rf}.resources`));
      if (!['*', 'Cluster', 'Namespaced'].includes(r.scope)) out.push(unsupported(`${rf}.scope`, r.scope, ['*', 'Cluster', 'Namespaced']));
    });
  });
  return out;
}

function strategyOf(kind: string, plural: string, mutating: boolean) {
  return defineStrategy({
    resource: resourceInfo({ group: 'admissionregistration.k8s.io', plural, kind, namespaced: false, categories: ['api-extensions'] }),
    schema: schemaOf(kind, mutating),
    generation: true,
    nameErrors: NAMES.subdomain,
    specChanged: (next, old) => JSON.stringify(next.webhooks ?? []) !== JSON.stringify(old.webhooks ?? []),
    defaults: (c) => defaults(c, mutating),
    validate: (c) => webhookConfigurationErrors(c, mutating),
    columns: [NAME, { name: 'Webhooks', type: 'integer', description: 'Webhooks indicates the number of webhooks configured.', cell: (c) => (c.webhooks ?? []).length }, AGE],
  });
}

export const VALIDATING_WEBHOOKS = 'validatingwebhookconfigurations';
export const MUTATING_WEBHOOKS = 'mutatingwebhookconfigurations';
export const validatingWebhookConfigurationStrategy = strategyOf('ValidatingWebhookConfiguration', VALIDATING_WEBHOOKS, false);
export const mutatingWebhookConfigurationStrategy = strategyOf('MutatingWebhookConfiguration', MUTATING_WEBHOOKS, true);
