// What admission's CEL expressions see of a write (Kubernetes' apiserver/pkg/admission/plugin/cel):
// the `request` variable, shaped as an AdmissionReview's request, and matchConditions, which both
// admission webhooks and validating admission policies use to narrow what they are called for.
// Pure: no I/O.
import type { KubeObject } from '../types.ts';
import type { ResourceInfo } from '../registry/strategy.ts';
import type { UserInfo } from '../auth/user.ts';
import { compile, isCompileError, toCel, type CompiledExpression } from '../api/cel.ts';

/** The part of a write's admission attributes the `request` variable is made of. */
export interface RequestAttributes {
  resource: ResourceInfo;
  subresource?: string;
  operation: string;
  name: string;
  namespace?: string;
  dryRun: boolean;
  user?: UserInfo;
}

/** The `request` variable: the admission request as an AdmissionReview carries it. */
export function requestOf(a: RequestAttributes): Record<string, unknown> {
  const r = a.resource;
  const gvk = { group: r.group, version: r.version, kind: r.kind };
  const gvr = { group: r.group, version: r.version, resource: r.plural };
  return {
    kind: gvk,
    resource: gvr,
    subResource: a.subresource ?? '',
    requestKind: gvk,
    requestResource: gvr,
    requestSubResource: a.subresource ?? '',
    name: a.name,
    namespace: a.namespace ?? '',
    operation: a.operation,
    userInfo: a.user ? { username: a.user.username, uid: a.user.uid ?? '', groups: a.user.groups, extra: a.user.extra ?? {} } : { username: 'system:wharf', uid: '', groups: ['system:masters'], extra: {} },
    dryRun: a.dryRun,
    options: { apiVersion: 'meta.k8s.io/v1', kind: a.operation === 'CREATE' ? 'CreateOptions' : a.operation === 'UPDATE' ? 'UpdateOptions' : 'DeleteOptions' },
  };
}

/** The variables a webhook's matchConditions may read (no authorizer: this server does not offer it to CEL). */
export const WEBHOOK_CONDITION_VARIABLES = { object: undefined, oldObject: undefined, request: undefined };

const compiledConditions = new WeakMap<object, { name: string; expression: string; program?: CompiledExpression }[]>();

/**
 * Whether every matchCondition holds for this write: false as soon as one is false; an error
 * message when one cannot be evaluated (the caller's failurePolicy decides what that means).
 */
export function matchConditionsHold(conditions: any[] | undefined, a: RequestAttributes, object: KubeObject | undefined, oldObject: KubeObject | undefined): boolean | { error: string } {
  if (!Array.isArray(conditions) || !conditions.length) return true;
  let compiled = compiledConditions.get(conditions);
  if (!compiled) {
    compiled = conditions.map((c) => {
      const program = compile(String(c?.expression ?? ''), WEBHOOK_CONDITION_VARIABLES);
      return { name: String(c?.name ?? ''), expression: String(c?.expression ?? ''), program: isCompileError(program) ? undefined : program };
    });
    compiledConditions.set(conditions, compiled);
  }
  const bindings = { object: object ? toCel(object) : null, oldObject: oldObject ? toCel(oldObject) : null, request: toCel(requestOf(a)) };
  for (const c of compiled) {
    if (!c.program) return { error: `matchCondition '${c.name}' does not compile` };
    const r = c.program.evaluate(bindings);
    if ('error' in r) return { error: `matchCondition '${c.name}' resulted in error: ${r.error}` };
    if (r.value === false) return false;
    if (r.value !== true) return { error: `matchCondition '${c.name}' did not evaluate to a bool` };
  }
  return true;
}
