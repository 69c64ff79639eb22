// Validating admission policies (Kubernetes' apiserver/pkg/admission/plugin/policy/validating): in
// the store's write path, beside the validating webhooks, so every writer is admitted alike. Each
// binding whose policy exists and whose match constraints (the policy's, then the binding's) select
// the write has the policy's matchConditions evaluated, then its variables, then its validations,
// with object, oldObject, request, namespaceObject, variables and params: the binding's paramRef
// resolved to objects of the policy's paramKind (by name or selector, in the paramRef's namespace
// or the request's), the policy evaluated once per parameter object. A failed validation denies the write under the binding's Deny
// action (422 Invalid, or the validation's reason), becomes a Warning header under Warn, and is
// left to an audit log under Audit (this server keeps none). An expression that fails to evaluate
// denies under failurePolicy Fail and is skipped under Ignore.
import type { KubeObject } from '../types.ts';
import type { AdmissionAttributes } from './webhooks.ts';
import { rulesMatch } from './webhooks.ts';
import { ApiError } from '../errors.ts';
import { selectorMatches } from '../api/selectors.ts';
import { compile, fromCel, isCompileError, toCel, type CompiledExpression } from '../api/cel.ts';
import { POLICY_VARIABLES } from '../registry/kinds/validatingadmissionpolicy.ts';
import { requestOf } from './cel-admission.ts';
import { strategyForKind } from '../registry/registry.ts';

/** What the policies read of the cluster: a namespace (its labels, and namespaceObject), and parameter objects. */
export interface PolicyCluster {
  namespace(name: string): Promise<KubeObject | undefined>;
  get(resource: string, namespace: string | undefined, name: string): Promise<KubeObject | null>;
  list(resource: string, namespace: string | undefined): Promise<{ items: KubeObject[] }>;
}

const REASON_CODES: Record<string, number> = { Unauthorized: 401, Forbidden: 403, Invalid: 422, RequestEntityTooLarge: 413 };
const DECLARED = Object.fromEntries(POLICY_VARIABLES.map((v) => [v, undefined]));

interface CompiledPolicy {
  policy: KubeObject;
  conditions: { name: string; program?: CompiledExpression; expression: string }[];
  variables: { name: string; program?: CompiledExpression; expression: string }[];
  validations: { v: any; program?: CompiledExpression; message?: CompiledExpression }[];
}

function compiled(expression: string): CompiledExpression | undefined {
  const c = compile(expression ?? '', DECLARED);
  return isCompileError(c) ? undefined : c;
}

function compilePolicy(policy: KubeObject): CompiledPolicy {
  const spec = policy.spec ?? {};
  return {
    policy,
    conditions: (spec.matchConditions ?? []).map((c: any) => ({ name: c.name, expression: c.expression, program: compiled(c.expression) })),
    variables: (spec.variables ?? []).map((v: any) => ({ name: v.name, expression: v.expression, program: compiled(v.expression) })),
    validations: (spec.validations ?? []).map((v: any) => ({ v, program: compiled(v.expression), message: v.messageExpression ? compiled(v.messageExpression) : undefined })),
  };
}

/** Whether match resources (a policy's constraints or a binding's) select this write; excluded rules win. */
export function matchResourcesSelect(m: any, a: AdmissionAttributes, object: KubeObject | undefined, namespaceLabels: Record<string, string> | undefined): boolean {
  if (!m) return true;
  const withNames = (rules: any[]) => rules.filter((r) => !r.resourceNames?.length || r.resourceNames.includes(a.name));
  if (m.resourceRules && !rulesMatch({ rules: withNames(m.resourceRules) }, a)) return false;
  if (m.excludeResourceRules?.length && rulesMatch({ rules: withNames(m.excludeResourceRules) }, a)) return false;
  const objectSelector = m.objectSelector ?? {};
  if (Object.keys(objectSelector).length) {
    const labelsOf = (o?: KubeObject) => o?.metadata?.labels ?? {};
    if (!selectorMatches(objectSelector, labelsOf(object)) && !(a.oldObject && selectorMatches(objectSelector, labelsOf(a.oldObject)))) return false;
  }
  const namespaceSelector = m.namespaceSelector ?? {};
  if (Object.keys(namespaceSelector).length) {
    if (a.resource.plural === 'namespaces' && !a.resource.group) return selectorMatches(namespaceSelector, object?.metadata?.labels ?? a.oldObject?.metadata?.labels ?? {});
    if (!a.resource.namespaced) return true; // cluster-scoped objects are not selected by namespace
    if (!selectorMatches(namespaceSelector, namespaceLabels ?? {})) return false;
  }
  return true;
}

/** The refusal of a denied request, as Kubernetes' validating policy dispatcher words it. */
export function policyDenial(a: AdmissionAttributes, message: string, reason = 'Invalid'): ApiError {
  const r = a.resource;
  const resource = r.group ? `${r.plural}.${r.group}` : r.plural;
  return new ApiError(REASON_CODES[reason] ?? 422, reason, `${resource} "${a.name}" is forbidden: ${message}`, { name: a.name, group: r.group, kind: r.plural, causes: [{ message }] } as any);
}

class EvaluationError extends Error {}

export class AdmissionPolicies {
  private policies = new Map<string, CompiledPolicy>();
  private bindings: KubeObject[] = [];

  constructor(private readonly cluster: PolicyCluster) {}

  /** The policies and bindings as they are now (a cache follows them). */
  setPolicies(policies: KubeObject[], bindings: KubeObject[]): void {
    const fresh = new Map<string, CompiledPolicy>();
    for (const p of policies) {
      const known = this.policies.get(p.metadata.name!);
      // Recompiled only when the spec changed: relists hand the same policies again and again.
      fresh.set(p.metadata.name!, known && JSON.stringify(known.policy.spec) === JSON.stringify(p.spec) ? known : compilePolicy(p));
    }
    this.policies = fresh;
    this.bindings = [...bindings].sort((x, y) => (x.metadata.name! < y.metadata.name! ? -1 : 1));
  }

  get empty(): boolean {
    return !this.bindings.length;
  }

  /**
   * Runs every bound policy that selects the write: throws the first denial; pushes Warn
   * failures onto warnings (the response's Warning headers).
   */
  async validate(a: AdmissionAttributes, object: KubeObject | undefined, warnings?: string[]): Promise<void> {
    let namespace: KubeObject | undefined | null = null;
    const namespaceObject = async () => {
      if (namespace === null) namespace = a.resource.namespaced && a.namespace ? await this.cluster.namespace(a.namespace) : undefined;
      return namespace;
    };
    for (const binding of this.bindings) {
      const p = this.policies.get(binding.spec?.policyName);
      if (!p) continue;
      const ns = await namespaceObject();
      const labels = ns?.metadata?.labels;
      if (!matchResourcesSelect(p.policy.spec?.matchConstraints, a, object, labels)) continue;
      if (binding.spec?.matchResources && !matchResourcesSelect(binding.spec.matchResources, a, object, labels)) continue;
      const actions: string[] = binding.spec?.validationActions ?? [];
      const bindingName = binding.metadata.name!;
      const policyName = p.policy.metadata.name!;
      const failures = await this.paramsFor(p.policy, binding, a).then(async (params) => {
        const out: { message: string; reason: string }[] = [];
        for (const param of params) out.push(...(await this.evaluate(p, a, object, ns, param)));
        return out;
      }).catch((err) => {
        if (!(err instanceof EvaluationError)) throw err;
        if (p.policy.spec?.failurePolicy === 'Ignore') return [];
        return [{ message: err.message, reason: 'Invalid' }];
      });
      for (const f of failures) {
        if (actions.includes('Warn')) warnings?.push(`Validation failed for ValidatingAdmissionPolicy '${policyName}' with binding '${bindingName}': ${f.message}`);
        if (actions.includes('Deny')) throw policyDenial(a, `ValidatingAdmissionPolicy '${policyName}' with binding '${bindingName}' denied request: ${f.message}`, f.reason);
      }
    }
  }

  /**
   * The parameter objects a binding gives its policy: [null] for a policy without paramKind; none
   * when none is found and parameterNotFoundAction is Allow; an error (under failurePolicy) when
   * Deny, or when the binding and the policy disagree on parameters.
   */
  private async paramsFor(policy: KubeObject, binding: KubeObject, a: AdmissionAttributes): Promise<(KubeObject | null)[]> {
    const kind = policy.spec?.paramKind;
    const ref = binding.spec?.paramRef;
    if (!kind) return [null];
    if (!ref) throw new EvaluationError('failed to configure binding: paramRef is required when the policy has a paramKind');
    const group = String(kind.apiVersion ?? '').includes('/') ? String(kind.apiVersion).split('/')[0] : '';
    const s = strategyForKind(kind.kind);
    if (!s || s.resource.group !== group) throw new EvaluationError(`failed to configure policy: failed to find resource referenced by paramKind: '${kind.apiVersion}, Kind=${kind.kind}'`);
    let namespace: string | undefined;
    if (s.resource.namespaced) {
      namespace = ref.namespace || a.namespace;
      if (!namespace) throw new EvaluationError('cannot use namespaced paramRef in policy binding that matches cluster-scoped resources');
    }
    let found: KubeObject[];
    if (ref.name) {
      const one = await this.cluster.get(s.resource.plural, namespace, ref.name);
      found = one ? [one] : [];
    } else {
      found = (await this.cluster.list(s.resource.plural, namespace)).items.filter((o) => selectorMatches(ref.selector ?? {}, o.metadata?.labels ?? {}));
    }
    if (found.length) return found;
    if (ref.parameterNotFoundAction === 'Allow') return [];
    throw new EvaluationError('failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction');
  }

  /** The failed validations of one policy for this write (none when a matchCondition is false). */
  private async evaluate(p: CompiledPolicy, a: AdmissionAttributes, object: KubeObject | undefined, namespace: KubeObject | undefined, params: KubeObject | null): Promise<{ message: string; reason: string }[]> {
    const variables: Record<string, unknown> = {};
    const bindings: Record<string, unknown> = {
      object: object ? toCel(object) : null,
      oldObject: a.oldObject ? toCel(a.oldObject) : null,
      request: toCel(requestOf(a)),
      params: params ? toCel(params) : null,
      namespaceObject: namespace ? toCel(namespace) : null,
      variables,
    };
    const run = (program: CompiledExpression | undefined, expression: string) => {
      if (!program) throw new EvaluationError(`compilation error: expression '${expression}' does not compile`);
      const r = program.evaluate(bindings);
      if ('error' in r) throw new EvaluationError(`expression '${expression}' resulted in error: ${r.error}`);
      return r.value;
    };
    for (const c of p.conditions) {
      const v = run(c.program, c.expression);
      if (v !== true && v !== false) throw new EvaluationError(`matchCondition '${c.name}' did not evaluate to a bool`);
      if (!v) return [];
    }
    // Variables in order, each reading the ones before it (Kubernetes evaluates them lazily; the result is the same).
    for (const v of p.variables) variables[v.name] = toCel(fromCel(run(v.program, v.expression)));
    const failures: { message: string; reason: string }[] = [];
    for (const { v, program, message } of p.validations) {
      const ok = run(program, v.expression);
      if (ok === true) continue;
      if (ok !== false) throw new EvaluationError(`expression '${v.expression}' resulted in error: the expression did not evaluate to a bool`);
      let text = v.message ? String(v.message) : `failed expression: ${String(v.expression).trim()}`;
      if (message) {
        const m = message.evaluate(bindings);
        if ('value' in m && typeof m.value === 'string' && m.value.trim() && !/[\r\n]/.test(m.value)) text = m.value;
      }
      failures.push({ message: text, reason: v.reason ?? 'Invalid' });
    }
    return failures;
  }
}
