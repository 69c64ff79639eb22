// What the four rbac.authorization.k8s.io/v1 kinds share (Kubernetes pkg/apis/rbac/validation,
// pkg/apis/rbac/v1/defaults.go, pkg/registry/rbac/escalation_check.go and the policybased storages):
// path-segment names, policy rule and subject validation, binding defaults, the bindings' table
// columns, and escalation prevention — a role granting what its writer does not hold, or a binding
// to such a role, is refused unless the writer may `escalate` / `bind`.
import type { KubeObject, StatusCause } from '../../types.ts';
import { ForbiddenError, NotFoundError } from '../../errors.ts';
import { dnsSubdomainErrors, invalid, labelSelectorErrors, required, unsupported } from '../../api/validation.ts';
import { AGE, NAME } from '../../api/printers.ts';
import { deepEqual } from '../../util.ts';
import { escalationError, isPrivileged, RBAC_GROUP, type PolicyRule, type RoleRef, type Subject } from '../../auth/rbac.ts';
import type { AdmissionContext, Column } from '../strategy.ts';

export { RBAC_GROUP };

/** Go's %#v of a []string: []string{"a", "b"}. */
const goStrings = (values: unknown) => `[]string{${(Array.isArray(values) ? values : []).map((v) => JSON.stringify(String(v))).join(', ')}}`;
const invalidRaw = (field: string, shown: string, why: string): StatusCause => ({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${shown}: ${why}` });

/** path.IsValidPathSegmentName, the only rule for the names of roles and bindings ("system:basic-user" is one). */
export function pathSegmentNameErrors(field: string, name: string): StatusCause[] {
  if (name === '.' || name === '..') return [invalid(field, name, `may not be '${name}'`)];
  const out: StatusCause[] = [];
  for (const c of ['/', '%']) if (name.includes(c)) out.push(invalid(field, name, `may not contain '${c}'`));
  return out;
}

export const pathSegmentNames = (field: string, name: string, _prefix: boolean) => pathSegmentNameErrors(field, name);

/** validatePolicyRule: verbs always; either resources (with groups) or non-resource URLs, the latter only cluster-wide. */
export function policyRuleErrors(rules: PolicyRule[] | null | undefined, namespaced: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  (rules ?? []).forEach((rule, i) => {
    const f = `rules[${i}]`;
    if (!rule || typeof rule !== 'object') return;
    if (!(rule.verbs ?? []).length) out.push(required(`${f}.verbs`, 'verbs must contain at least one value'));
    if ((rule.nonResourceURLs ?? []).length) {
      if (namespaced) out.push(invalidRaw(`${f}.nonResourceURLs`, goStrings(rule.nonResourceURLs), 'namespaced rules cannot apply to non-resource URLs'));
      if ((rule.apiGroups ?? []).length || (rule.resources ?? []).length || (rule.resourceNames ?? []).length) {
        out.push(invalidRaw(`${f}.nonResourceURLs`, goStrings(rule.nonResourceURLs), 'rules cannot apply to both regular resources and non-resource URLs'));
      }
      return;
    }
    if (!(rule.apiGroups ?? []).length) out.push(required(`${f}.apiGroups`, 'resource rules must supply at least one api group'));
    if (!(rule.resources ?? []).length) out.push(required(`${f}.resources`, 'resource rules must supply at least one resource'));
    if ((rule.resourceNames ?? []).length && (rule.resources ?? []).length > 1) out.push(required(`${f}.resourceNames`, 'resource names cannot apply to multiple resources'));
  });
  return out;
}

/** A ClusterRole's aggregationRule: at least one selector, each a valid label selector. */
export function aggregationRuleErrors(rule: any): StatusCause[] {
  if (rule === undefined || rule === null) return [];
  const selectors = rule.clusterRoleSelectors ?? [];
  if (!selectors.length) return [required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil')];
  return selectors.flatMap((s: any, i: number) => labelSelectorErrors(`aggregationRule.clusterRoleSelectors[${i}]`, s));
}

/** SetDefaults_RoleBinding / ClusterRoleBinding / Subject: the RBAC group where a client leaves it out. */
export function bindingDefaults(binding: KubeObject): void {
  if (binding.roleRef && typeof binding.roleRef === 'object' && !binding.roleRef.apiGroup) binding.roleRef.apiGroup = RBAC_GROUP;
  for (const s of Array.isArray(binding.subjects) ? binding.subjects : []) {
    if (s && typeof s === 'object' && !s.apiGroup && (s.kind === 'User' || s.kind === 'Group')) s.apiGroup = RBAC_GROUP;
  }
}

function subjectErrors(subject: Subject, namespaced: boolean, f: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (!subject.name) out.push(required(`${f}.name`));
  switch (subject.kind) {
    case 'ServiceAccount':
      if (subject.name) out.push(...dnsSubdomainErrors(`${f}.name`, subject.name));
      if (subject.apiGroup) out.push(unsupported(`${f}.apiGroup`, subject.apiGroup, ['']));
      if (!namespaced && !subject.namespace) out.push(required(`${f}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (!subject.name) out.push(invalid(`${f}.name`, '', `${subject.kind === 'User' ? 'user' : 'group'} name cannot be empty`));
      if (subject.apiGroup !== RBAC_GROUP) out.push(unsupported(`${f}.apiGroup`, subject.apiGroup ?? '', [RBAC_GROUP]));
      break;
    default:
      out.push(unsupported(`${f}.kind`, subject.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return out;
}

/** ValidateRoleBinding / ValidateClusterRoleBinding: the role reference and every subject. */
export function bindingErrors(binding: KubeObject, namespaced: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  const ref: Partial<RoleRef> = binding.roleRef ?? {};
  if (ref.apiGroup !== RBAC_GROUP) out.push(unsupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind ?? '')) out.push(unsupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!ref.name) out.push(required('roleRef.name'));
  else out.push(...pathSegmentNameErrors('roleRef.name', ref.name));
  (Array.isArray(binding.subjects) ? binding.subjects : []).forEach((s: Subject, i: number) => out.push(...subjectErrors(s ?? ({} as Subject), namespaced, `subjects[${i}]`)));
  return out;
}

/** roleRef never changes: Kubernetes prints the new one as Go's %#v of its internal type. */
export function roleRefUpdateErrors(binding: KubeObject, old: KubeObject): StatusCause[] {
  const a: Partial<RoleRef> = binding.roleRef ?? {};
  const b: Partial<RoleRef> = old.roleRef ?? {};
  if (a.apiGroup === b.apiGroup && a.kind === b.kind && a.name === b.name) return [];
  const shown = `rbac.RoleRef{APIGroup:${JSON.stringify(a.apiGroup ?? '')}, Kind:${JSON.stringify(a.kind ?? '')}, Name:${JSON.stringify(a.name ?? '')}}`;
  return [invalidRaw('roleRef', shown, 'cannot change roleRef')];
}

/** The Created At column of Roles and ClusterRoles: the creation time in RFC 3339, UTC. */
export const CREATED_AT: Column = {
  name: 'Created At',
  type: 'date',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  cell: (o) => (o.metadata.creationTimestamp ? new Date(o.metadata.creationTimestamp).toISOString().replace(/\.\d{3}Z$/, 'Z') : '<unknown>'),
};

function subjectNames(o: KubeObject, kind: string): string {
  const subjects: Subject[] = Array.isArray(o.subjects) ? o.subjects : [];
  return subjects.filter((s) => s.kind === kind).map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : s.name)).join(', ');
}

/** kubectl get rolebindings / clusterrolebindings: NAME ROLE AGE, and the subjects with -o wide. */
export const BINDING_COLUMNS: Column[] = [
  NAME,
  { name: 'Role', description: 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.', cell: (o) => `${o.roleRef?.kind ?? ''}/${o.roleRef?.name ?? ''}` },
  AGE,
  { name: 'Users', priority: 1, description: 'Users in the roleBinding', cell: (o) => subjectNames(o, 'User') },
  { name: 'Groups', priority: 1, description: 'Groups in the roleBinding', cell: (o) => subjectNames(o, 'Group') },
  { name: 'ServiceAccounts', priority: 1, description: 'ServiceAccounts in the roleBinding', cell: (o) => subjectNames(o, 'ServiceAccount') },
];

export const ROLE_COLUMNS: Column[] = [NAME, CREATED_AT];

// ---- escalation prevention --------------------------------------------------------------

/** IsOnlyMutatingGCFields: an update that changes only owner references and finalizers needs no check. */
function onlyGcFields(obj: KubeObject, old: KubeObject | undefined): boolean {
  if (!old) return false;
  const strip = (o: KubeObject) => {
    const { ownerReferences: _o, finalizers: _f, managedFields: _m, resourceVersion: _r, ...meta } = o.metadata ?? {};
    return { ...o, metadata: meta };
  };
  return deepEqual(strip(obj), strip(old));
}

function forbidden(resource: string, name: string, why: string): ForbiddenError {
  return new ForbiddenError(`${resource}.${RBAC_GROUP} ${JSON.stringify(name)} is forbidden: ${why}`, { name, group: RBAC_GROUP, kind: resource });
}

/**
 * A Role or ClusterRole may grant only what its writer holds (in the role's namespace, or
 * cluster-wide), unless the writer is in system:masters or may `escalate` roles.
 */
export async function checkRoleEscalation(resource: 'roles' | 'clusterroles', role: KubeObject, old: KubeObject | undefined, ctx: AdmissionContext): Promise<void> {
  const requester = ctx.requester;
  if (!requester || isPrivileged(requester.user) || onlyGcFields(role, old)) return;
  const namespace = role.metadata.namespace ?? '';
  const escalate = { verb: 'escalate', resourceRequest: true, apiGroup: RBAC_GROUP, apiVersion: '*', resource, namespace, name: old ? role.metadata.name ?? '' : '' };
  if (await requester.authorize(escalate)) return;
  const owned = await requester.rulesFor(namespace);
  const error = escalationError(requester.user, owned, role.rules ?? []);
  if (error) throw forbidden(resource, role.metadata.name ?? '', error);
  // An aggregation rule can gather anything: setting, changing or dropping one takes all of it.
  if ((role.aggregationRule || old?.aggregationRule) && escalationError(requester.user, owned, FULL_AUTHORITY)) {
    throw forbidden(resource, role.metadata.name ?? '', 'must have cluster-admin privileges to use the aggregationRule');
  }
}

/** What cluster-admin holds: every verb on everything, and on every path. */
const FULL_AUTHORITY: PolicyRule[] = [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }];

/**
 * A binding may grant a role only to a writer who may `bind` it, or who holds every permission of
 * it already (in the binding's namespace, or cluster-wide). A role that does not exist is 404.
 */
export async function checkBindingEscalation(resource: 'rolebindings' | 'clusterrolebindings', binding: KubeObject, old: KubeObject | undefined, ctx: AdmissionContext): Promise<void> {
  const requester = ctx.requester;
  if (!requester || isPrivileged(requester.user) || onlyGcFields(binding, old)) return;
  const namespace = binding.metadata.namespace ?? '';
  const ref: RoleRef = binding.roleRef;
  const roleResource = ref.kind === 'ClusterRole' ? 'clusterroles' : ref.kind === 'Role' ? 'roles' : undefined;
  if (roleResource && (await requester.authorize({ verb: 'bind', resourceRequest: true, apiGroup: ref.apiGroup, resource: roleResource, name: ref.name, namespace }))) return;
  if (!roleResource) throw forbidden(resource, binding.metadata.name ?? '', `unsupported role reference kind: ${JSON.stringify(ref.kind)}`);
  const role = await ctx.reader.get(roleResource, roleResource === 'roles' ? namespace : undefined, ref.name);
  if (!role) throw new NotFoundError(roleResource, ref.name, RBAC_GROUP);
  const error = escalationError(requester.user, await requester.rulesFor(namespace), role.rules ?? []);
  if (error) throw forbidden(resource, binding.metadata.name ?? '', error);
}
