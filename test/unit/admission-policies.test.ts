// ValidatingAdmissionPolicy and its binding: their validation (expressions compiled when written)
// and their evaluation (shared/admission/policies.ts) in Kubernetes' words, without a cluster; and
// admission webhooks' matchConditions, the same CEL environment.
import test from 'ava';
import { AdmissionPolicies } from '../../shared/admission/policies.ts';
import { bindingErrors, policyErrors, validatingAdmissionPolicyStrategy } from '../../shared/registry/kinds/validatingadmissionpolicy.ts';
import { strategyFor } from '../../shared/registry/registry.ts';
import { DEFAULT_ADMISSION } from '../../shared/registry/admission.ts';
import type { AdmissionAttributes } from '../../shared/admission/webhooks.ts';
import { ApiError } from '../../shared/errors.ts';
import { AdmissionWebhooks, type WebhookTransport } from '../../shared/admission/webhooks.ts';
import { webhookConfigurationErrors } from '../../shared/registry/kinds/webhookconfiguration.ts';

const policy = (spec: any, name = 'max-replicas'): any => ({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name, resourceVersion: '1' }, spec });
const binding = (spec: any, name = 'max-replicas-binding'): any => ({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name, resourceVersion: '1' }, spec });
const deployments = { resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments'] }] };

const write = (replicas: number, extra: Partial<AdmissionAttributes> = {}): [AdmissionAttributes, any] => {
  const obj = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'team-a', labels: { tier: 'front' } }, spec: { replicas } };
  return [{ resource: strategyFor('deployments').resource, operation: 'CREATE', namespace: 'team-a', name: 'web', dryRun: false, ...extra }, obj];
};

const configMaps: any[] = [
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'limits', namespace: 'team-a', labels: { policy: 'replicas' } }, data: { max: '3' } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'strict', namespace: 'team-a', labels: { policy: 'replicas' } }, data: { max: '1' } },
];
const cluster = {
  namespace: async (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { env: name === 'team-a' ? 'prod' : 'dev' } } }),
  get: async (resource: string, namespace: string | undefined, name: string) => (resource === 'configmaps' ? configMaps.find((c) => c.metadata.namespace === namespace && c.metadata.name === name) ?? null : null),
  list: async (resource: string, namespace: string | undefined) => ({ items: resource === 'configmaps' ? configMaps.filter((c) => c.metadata.namespace === namespace) : [] }),
};

test('a bound policy denies in Kubernetes words with 422, or the reason\'s code; Warn becomes a warning', async (t) => {
  const p = new AdmissionPolicies(cluster);
  p.setPolicies([policy({ failurePolicy: 'Fail', matchConstraints: deployments, variables: [{ name: 'limit', expression: '3' }], validations: [{ expression: 'object.spec.replicas <= variables.limit' }] })], [binding({ policyName: 'max-replicas', validationActions: ['Deny'] })]);
  await t.notThrowsAsync(p.validate(...write(3)));
  const err = await t.throwsAsync(p.validate(...write(4)), { instanceOf: ApiError });
  t.is(err!.code, 422);
  t.is(err!.reason, 'Invalid');
  t.is(err!.message, "deployments.apps \"web\" is forbidden: ValidatingAdmissionPolicy 'max-replicas' with binding 'max-replicas-binding' denied request: failed expression: object.spec.replicas <= variables.limit");

  p.setPolicies([policy({ failurePolicy: 'Fail', matchConstraints: deployments, validations: [{ expression: 'object.spec.replicas <= 3', messageExpression: "'replicas ' + string(object.spec.replicas) + ' > 3 in ' + namespaceObject.metadata.labels.env", reason: 'Forbidden' }] })], [binding({ policyName: 'max-replicas', validationActions: ['Warn', 'Audit'] }), binding({ policyName: 'max-replicas', validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { env: 'dev' } } } }, 'dev-only')]);
  const warnings: string[] = [];
  await p.validate(...write(5), warnings);
  t.deepEqual(warnings, ["Validation failed for ValidatingAdmissionPolicy 'max-replicas' with binding 'max-replicas-binding': replicas 5 > 3 in prod"]);
  const denied = await t.throwsAsync(p.validate(write(5, { namespace: 'team-b' })[0], { ...write(5)[1], metadata: { name: 'web', namespace: 'team-b' } }), { instanceOf: ApiError });
  t.is(denied!.code, 403);
  t.regex(denied!.message, /with binding 'dev-only' denied request: replicas 5 > 3 in dev$/);
});

test('matchConditions, excluded rules, object selectors and failurePolicy decide what runs', async (t) => {
  const p = new AdmissionPolicies(cluster);
  const bind = binding({ policyName: 'max-replicas', validationActions: ['Deny'] });
  p.setPolicies([policy({ failurePolicy: 'Fail', matchConstraints: { ...deployments, objectSelector: { matchLabels: { tier: 'front' } } }, matchConditions: [{ name: 'not-system', expression: "!request.userInfo.username.startsWith('system:')" }], validations: [{ expression: 'object.spec.replicas <= 3' }] })], [bind]);
  await t.notThrowsAsync(p.validate(...write(9))); // Wharf's own writes are system:wharf
  await t.throwsAsync(p.validate(write(9, { user: { username: 'alice', groups: [] } })[0], write(9)[1]));
  p.setPolicies([policy({ failurePolicy: 'Ignore', matchConstraints: deployments, validations: [{ expression: 'object.spec.missing > 1' }] })], [bind]);
  await t.notThrowsAsync(p.validate(...write(9)));
  p.setPolicies([policy({ failurePolicy: 'Fail', matchConstraints: deployments, validations: [{ expression: 'object.spec.missing > 1' }] })], [bind]);
  t.regex((await t.throwsAsync(p.validate(...write(9))))!.message, /denied request: expression 'object.spec.missing > 1' resulted in error: no such key: missing$/);
  p.setPolicies([policy({ failurePolicy: 'Fail', matchConstraints: { ...deployments, excludeResourceRules: [{ apiGroups: ['apps'], apiVersions: ['*'], operations: ['*'], resources: ['deployments'], resourceNames: ['web'] }] }, validations: [{ expression: 'false' }] })], [bind]);
  await t.notThrowsAsync(p.validate(...write(1)));
});

test('policies and bindings are validated as Kubernetes validates them, expressions compiled', (t) => {
  const p = policy({ matchConstraints: deployments, validations: [{ expression: 'object.spec.replicas <=' }, { expression: 'nope(object)', reason: 'Teapot' }], variables: [{ name: 'bad-name', expression: 'authorizer' }], paramKind: { apiVersion: 'v1' } });
  validatingAdmissionPolicyStrategy.defaults(p, DEFAULT_ADMISSION);
  const errs = policyErrors(p);
  t.true(errs.some((c) => c.field === 'spec.validations[0].expression' && c.message.startsWith('Invalid value: "object.spec.replicas <=": compilation failed: ERROR: <input>:1:')));
  t.true(errs.some((c) => c.field === 'spec.validations[1].expression' && c.message.includes("undeclared reference to 'nope'")));
  t.true(errs.some((c) => c.field === 'spec.validations[1].reason' && c.message.startsWith('Unsupported value: "Teapot"')));
  t.true(errs.some((c) => c.field === 'spec.variables[0].name'));
  t.true(errs.some((c) => c.field === 'spec.variables[0].expression' && c.message.includes("undeclared reference to 'authorizer'")));
  t.true(errs.some((c) => c.field === 'spec.paramKind.kind' && c.message === 'Required value'));
  t.deepEqual(policyErrors(policy({ failurePolicy: 'Fail', matchConstraints: { ...deployments, namespaceSelector: {}, objectSelector: {}, matchPolicy: 'Equivalent' } })).map((c) => c.field), ['spec.validations']);
  t.deepEqual(bindingErrors(binding({ policyName: 'p', validationActions: ['Deny', 'Warn'] })).map((c) => c.message), ['Invalid value: ["Deny","Warn"]: must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)']);
  t.true(bindingErrors(binding({ policyName: 'p', validationActions: [] })).some((c) => c.field === 'spec.validationActions' && c.message === 'Required value: at least one validation action is required'));
  t.deepEqual(bindingErrors(binding({ policyName: 'p', validationActions: ['Deny'], paramRef: { name: 'x' } })).map((c) => c.field), ['spec.paramRef.parameterNotFoundAction']);
  t.deepEqual(bindingErrors(binding({ policyName: 'p', validationActions: ['Deny'], paramRef: { parameterNotFoundAction: 'Deny' } })).map((c) => c.message), ['Required value: one of name or selector must be specified']);
});

test('parameters: paramRef by name or selector, in the request\'s namespace, and parameterNotFoundAction', async (t) => {
  const p = new AdmissionPolicies(cluster);
  const withParams = policy({ failurePolicy: 'Fail', paramKind: { apiVersion: 'v1', kind: 'ConfigMap' }, matchConstraints: deployments, validations: [{ expression: 'object.spec.replicas <= int(params.data.max)', messageExpression: "'at most ' + params.data.max + ' replicas (' + params.metadata.name + ')'" }] });
  p.setPolicies([withParams], [binding({ policyName: 'max-replicas', validationActions: ['Deny'], paramRef: { name: 'limits', parameterNotFoundAction: 'Deny' } })]);
  await t.notThrowsAsync(p.validate(...write(3)));
  t.regex((await t.throwsAsync(p.validate(...write(4))))!.message, /denied request: at most 3 replicas \(limits\)$/);
  // In another namespace there is no such ConfigMap: Deny refuses, Allow lets it through.
  const elsewhere = write(9, { namespace: 'team-b' });
  t.regex((await t.throwsAsync(p.validate(...elsewhere)))!.message, /no params found for policy binding with `Deny` parameterNotFoundAction/);
  p.setPolicies([withParams], [binding({ policyName: 'max-replicas', validationActions: ['Deny'], paramRef: { name: 'limits', parameterNotFoundAction: 'Allow' } })]);
  await t.notThrowsAsync(p.validate(...elsewhere));
  // A selector: the policy runs once per parameter object; the strictest refuses.
  p.setPolicies([withParams], [binding({ policyName: 'max-replicas', validationActions: ['Deny'], paramRef: { selector: { matchLabels: { policy: 'replicas' } }, parameterNotFoundAction: 'Deny' } })]);
  t.regex((await t.throwsAsync(p.validate(...write(2))))!.message, /at most 1 replicas \(strict\)$/);
  // A policy with parameters bound without a paramRef is misconfigured: failurePolicy decides.
  p.setPolicies([withParams], [binding({ policyName: 'max-replicas', validationActions: ['Deny'] })]);
  t.regex((await t.throwsAsync(p.validate(...write(1))))!.message, /paramRef is required when the policy has a paramKind/);
});

// ---- admission webhooks' matchConditions (the same CEL environment) -------------------------------

test('webhook matchConditions: compiled when the configuration is written; the webhook is called only where all hold; failurePolicy decides an error', async (t) => {
  const calls: string[] = [];
  const transport: WebhookTransport = async (target, body: any) => {
    calls.push(body.request.name);
    return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: body.request.uid, allowed: false, status: { message: 'no' } } };
  };
  const hooks = new AdmissionWebhooks({ namespaceLabels: async () => ({}), serviceBackend: async () => { throw new Error('no Services here'); } }, transport);
  const hook = (failurePolicy: string, expression: string) => ({ name: 'v.example.com', clientConfig: { url: 'https://127.0.0.1:1/' }, rules: [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'], scope: '*' }], failurePolicy, matchConditions: [{ name: 'not-kube-system', expression: "request.namespace != 'kube-system'" }, { name: 'labelled', expression }] });
  hooks.setConfigurations([], [{ apiVersion: '', kind: '', metadata: { name: 'v' }, webhooks: [hook('Fail', "has(object.metadata.labels) && object.metadata.labels.check == 'yes'")] }]);
  const pod = (name: string, labels?: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) } });
  const attrs = (name: string, namespace = 'default') => ({ resource: strategyFor('pods').resource, operation: 'CREATE' as const, name, namespace, dryRun: false });
  await t.notThrowsAsync(hooks.validate(attrs('unlabelled'), pod('unlabelled')));
  await t.notThrowsAsync(hooks.validate(attrs('system', 'kube-system'), pod('system', { check: 'yes' })));
  await t.throwsAsync(hooks.validate(attrs('checked'), pod('checked', { check: 'yes' })), { message: 'admission webhook "v.example.com" denied the request: no' });
  t.deepEqual(calls, ['checked']);
  hooks.setConfigurations([], [{ apiVersion: '', kind: '', metadata: { name: 'v' }, webhooks: [hook('Fail', 'object.metadata.labels.check == "yes"')] }]);
  await t.throwsAsync(hooks.validate(attrs('nolabels'), pod('nolabels')), { message: /failed calling webhook "v\.example\.com": failed to evaluate match conditions: matchCondition 'labelled' resulted in error: no such key: labels/ });
  hooks.setConfigurations([], [{ apiVersion: '', kind: '', metadata: { name: 'v' }, webhooks: [hook('Ignore', 'object.metadata.labels.check == "yes"')] }]);
  await t.notThrowsAsync(hooks.validate(attrs('nolabels'), pod('nolabels')));

  const config = (matchConditions: any[]) => ({ apiVersion: '', kind: '', metadata: {}, webhooks: [{ name: 'a.b.c', clientConfig: { url: 'https://x.example.com' }, failurePolicy: 'Fail', matchPolicy: 'Equivalent', timeoutSeconds: 10, admissionReviewVersions: ['v1'], sideEffects: 'None', matchConditions }] });
  t.deepEqual(webhookConfigurationErrors(config([{ name: 'ok', expression: "request.operation == 'CREATE'" }]), false), []);
  t.deepEqual(webhookConfigurationErrors(config([{ name: 'a', expression: 'size(object.metadata.name)' }, { name: 'a', expression: 'params.x' }]), false).map((c) => `${c.field}: ${c.message.split('\n')[0]}`), [
    'webhooks[0].matchConditions[0].expression: Invalid value: "size(object.metadata.name)": cel expression must evaluate to a bool',
    'webhooks[0].matchConditions[1].name: Duplicate value: "a"',
    "webhooks[0].matchConditions[1].expression: Invalid value: \"params.x\": compilation failed: ERROR: <input>:1:1: undeclared reference to 'params' (in container '')",
  ]);
});
