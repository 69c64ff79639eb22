// Role-based access control, as Kubernetes' RBAC authorizer decides it (plugin/pkg/auth/authorizer/rbac,
// pkg/registry/rbac/validation): which rules a user holds in a namespace, whether one of them
// allows a request, and whether a user holds every permission a role would grant (escalation
// prevention). Pure: the roles and bindings come from an RbacSource (the API server's informer
// cache, or plain lists in tests).
import type { UserInfo } from './user.ts';
import { SYSTEM_MASTERS } from './user.ts';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: string;
  apiGroup?: string;
  name: string;
  namespace?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: string;
  name: string;
}

/** A Role or ClusterRole, as far as authorization reads it. */
export interface RoleLike {
  metadata: { name?: string; namespace?: string };
  rules?: PolicyRule[] | null;
}

/** A RoleBinding or ClusterRoleBinding, as far as authorization reads it. */
export interface BindingLike {
  metadata: { name?: string; namespace?: string };
  subjects?: Subject[] | null;
  roleRef: RoleRef;
}

/** Where the rules come from: an informer cache in the API server, lists in tests. */
export interface RbacSource {
  clusterRoleBindings(): BindingLike[];
  roleBindings(namespace: string): BindingLike[];
  role(namespace: string, name: string): RoleLike | undefined;
  clusterRole(name: string): RoleLike | undefined;
}

/**
 * What a request asks to do (k8s.io/apiserver authorizer.Attributes): a verb on a resource
 * (optionally one object, a subresource, in a namespace), or a verb on a non-resource path.
 */
export interface Attributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  namespace?: string;
  apiGroup?: string;
  apiVersion?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  /** The URL path of a non-resource request. */
  path?: string;
}

export interface Decision {
  allowed: boolean;
  /** Why (RBAC: allowed by ...), or the errors met resolving the user's roles; '' when nothing to say. */
  reason: string;
}

// ---- matching one rule (pkg/apis/rbac/v1 evaluation_helpers.go) ---------------------------

const ALL = '*';

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === ALL || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === ALL || g === group);
}

/** `pods`, `pods/log`, `*`, and `*\/scale` for the scale subresource of every resource. */
export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  return (rule.resources ?? []).some((r) => r === ALL || r === combined || (subresource !== '' && r === `*/${subresource}`));
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

/** `/healthz` exactly, `*`, or a prefix ending in `*` (`/apis/*`). */
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some((u) => u === ALL || u === path || (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''))));
}

export function ruleAllows(attrs: Attributes, rule: PolicyRule): boolean {
  if (attrs.resourceRequest) {
    const combined = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource ?? '';
    return verbMatches(rule, attrs.verb) && apiGroupMatches(rule, attrs.apiGroup ?? '') && resourceMatches(rule, combined, attrs.subresource ?? '') && resourceNameMatches(rule, attrs.name ?? '');
  }
  return verbMatches(rule, attrs.verb) && nonResourceURLMatches(rule, attrs.path ?? '');
}

// ---- resolving a user's rules (pkg/registry/rbac/validation/rule.go) ----------------------

export const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

/** Whether a binding's subject names this user (User, Group, or ServiceAccount, defaulting to the binding's namespace). */
export function appliesTo(user: UserInfo, subject: Subject, namespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.username === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = subject.namespace || namespace;
      return !!ns && user.username === `${SERVICE_ACCOUNT_PREFIX}${ns}:${subject.name}`;
    }
    default:
      return false;
  }
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${JSON.stringify(s.name)}`;
}

/** Where a rule came from, as Kubernetes' allow reasons name it. */
function describeBinding(b: BindingLike, subject: Subject): string {
  const ns = b.metadata.namespace;
  if (ns) return `RoleBinding ${JSON.stringify(`${b.metadata.name}/${ns}`)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(subject, ns)}`;
  return `ClusterRoleBinding ${JSON.stringify(b.metadata.name)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(subject, '')}`;
}

/** The rules a binding's roleRef grants, or the error resolving it (a role that does not exist). */
export function roleRefRules(source: RbacSource, ref: RoleRef, bindingNamespace: string): { rules: PolicyRule[] } | { error: string } {
  switch (ref.kind) {
    case 'Role': {
      const role = source.role(bindingNamespace, ref.name);
      return role ? { rules: role.rules ?? [] } : { error: `role.${RBAC_GROUP} ${JSON.stringify(ref.name)} not found` };
    }
    case 'ClusterRole': {
      const role = source.clusterRole(ref.name);
      return role ? { rules: role.rules ?? [] } : { error: `clusterrole.${RBAC_GROUP} ${JSON.stringify(ref.name)} not found` };
    }
    default:
      return { error: `unsupported role reference kind: ${JSON.stringify(ref.kind)}` };
  }
}

/**
 * Calls visit with each rule granted to the user in namespace (cluster role bindings first, then
 * the namespace's role bindings; '' reads the cluster's only), and with each error met. visit
 * returns false to stop.
 */
export function visitRulesFor(source: RbacSource, user: UserInfo, namespace: string, visit: (from: string, rule: PolicyRule | undefined, error?: string) => boolean): void {
  const walk = (bindings: BindingLike[], ns: string): boolean => {
    for (const binding of bindings) {
      const subject = (binding.subjects ?? []).find((s) => appliesTo(user, s, ns));
      if (!subject) continue;
      const resolved = roleRefRules(source, binding.roleRef, ns);
      if ('error' in resolved) {
        if (!visit('', undefined, resolved.error)) return false;
        continue;
      }
      const from = describeBinding(binding, subject);
      for (const rule of resolved.rules) if (!visit(from, rule)) return false;
    }
    return true;
  };
  if (!walk(source.clusterRoleBindings(), '')) return;
  if (namespace) walk(source.roleBindings(namespace), namespace);
}

/** Every rule the user holds in namespace, and the errors met finding them (the rules are then incomplete). */
export function rulesFor(source: RbacSource, user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
  const rules: PolicyRule[] = [];
  const errors: string[] = [];
  visitRulesFor(source, user, namespace, (_from, rule, error) => {
    if (rule) rules.push(rule);
    if (error) errors.push(error);
    return true;
  });
  return { rules, errors };
}

/** utilerrors.NewAggregate(errs).Error(): one message alone, several in brackets. */
export function aggregateErrors(errors: string[]): string {
  return errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
}

export function isPrivileged(user: UserInfo): boolean {
  return user.groups.includes(SYSTEM_MASTERS);
}

/**
 * The API server's decision: system:masters may do anything (Kubernetes' privileged-group
 * authorizer, ahead of RBAC); anyone else what a rule bound to them allows. No rule is "no
 * opinion", which with RBAC alone is a refusal.
 */
export function authorize(source: RbacSource, attrs: Attributes): Decision {
  if (isPrivileged(attrs.user)) return { allowed: true, reason: '' };
  let allowedBy: string | undefined;
  const errors: string[] = [];
  visitRulesFor(source, attrs.user, attrs.resourceRequest ? attrs.namespace ?? '' : '', (from, rule, error) => {
    if (error) errors.push(error);
    if (rule && ruleAllows(attrs, rule)) {
      allowedBy = from;
      return false;
    }
    return true;
  });
  if (allowedBy !== undefined) return { allowed: true, reason: `RBAC: allowed by ${allowedBy}` };
  return { allowed: false, reason: errors.length ? `RBAC: ${aggregateErrors(errors)}` : '' };
}

// ---- escalation prevention (component-helpers auth/rbac/validation, policy_comparator.go) ----

/** One rule per verb, group, resource and name (or per verb and non-resource URL). */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        const names = rule.resourceNames ?? [];
        if (names.length) for (const name of names) out.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [name] });
        else out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

const hasAll = (set: string[], wanted: string[]) => wanted.every((w) => set.includes(w));

function resourceCoversAll(owned: string[], wanted: string[]): boolean {
  if (owned.includes(ALL) || hasAll(owned, wanted)) return true;
  return wanted.every((path) => {
    if (owned.includes(path)) return true;
    const slash = path.indexOf('/');
    return slash >= 0 && owned.includes(`*/${path.slice(slash + 1)}`);
  });
}

function nonResourceURLCovers(owner: string, path: string): boolean {
  return owner === path || (owner.endsWith('*') && path.startsWith(owner.replace(/\*+$/, '')));
}

function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = owner.verbs.includes(ALL) || hasAll(owner.verbs, sub.verbs);
  const groups = (owner.apiGroups ?? []).includes(ALL) || hasAll(owner.apiGroups ?? [], sub.apiGroups ?? []);
  const resources = resourceCoversAll(owner.resources ?? [], sub.resources ?? []);
  const urls = (sub.nonResourceURLs ?? []).every((p) => (owner.nonResourceURLs ?? []).some((o) => nonResourceURLCovers(o, p)));
  const ownerNames = owner.resourceNames ?? [];
  const subNames = sub.resourceNames ?? [];
  const names = subNames.length === 0 ? ownerNames.length === 0 : ownerNames.length === 0 || hasAll(ownerNames, subNames);
  return verbs && groups && resources && urls && names;
}

/** Whether the owner's rules grant everything the servant's do; if not, the pieces they miss. */
export function covers(ownerRules: PolicyRule[], servantRules: PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const servant of servantRules) {
    for (const sub of breakdownRule(servant)) if (!ownerRules.some((o) => ruleCovers(o, sub))) missing.push(sub);
  }
  return { covered: missing.length === 0, missing };
}

/** Rules of one group, one resource and at most one name merged, their verbs together (CompactRules). */
export function compactRules(rules: PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const rule of rules) {
    const names = rule.resourceNames ?? [];
    const isSimple = names.length <= 1 && !(rule.nonResourceURLs ?? []).length && (rule.apiGroups ?? []).length === 1 && (rule.resources ?? []).length === 1;
    if (!isSimple) {
      out.push(rule);
      continue;
    }
    const key = JSON.stringify([rule.apiGroups![0], rule.resources![0], names[0] ?? null]);
    const existing = simple.get(key);
    if (existing) existing.verbs.push(...rule.verbs);
    else simple.set(key, { ...rule, verbs: [...rule.verbs] });
  }
  return [...out, ...simple.values()];
}

/** Go's %q of a []string: ["a" "b"]. */
function goQuotedList(values: string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;
}

/** A rule as escalation errors print it: {APIGroups:[""], Resources:["pods"], Verbs:["get"]}. */
export function compactString(rule: PolicyRule): string {
  const parts: string[] = [];
  if (rule.apiGroups?.length) parts.push(`APIGroups:${goQuotedList(rule.apiGroups)}`);
  if (rule.resources?.length) parts.push(`Resources:${goQuotedList(rule.resources)}`);
  if (rule.nonResourceURLs?.length) parts.push(`NonResourceURLs:${goQuotedList(rule.nonResourceURLs)}`);
  if (rule.resourceNames?.length) parts.push(`ResourceNames:${goQuotedList(rule.resourceNames)}`);
  if (rule.verbs.length) parts.push(`Verbs:${goQuotedList(rule.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/**
 * ConfirmNoEscalation: undefined when the user holds every permission of rules; otherwise the
 * message Kubernetes refuses the write with (the missing permissions compacted, one a line, sorted).
 */
export function escalationError(user: UserInfo, owned: { rules: PolicyRule[]; errors: string[] }, rules: PolicyRule[]): string | undefined {
  const { covered, missing } = covers(owned.rules, rules);
  if (covered) return undefined;
  const lines = [...new Set(compactRules(missing).map(compactString))].sort();
  let message = `user ${JSON.stringify(user.username)} (groups=${goQuotedList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${lines.join('\n')}`;
  if (owned.errors.length) message += `; resolution errors: [${aggregateErrors(owned.errors)}]`;
  return message;
}

// ---- ClusterRole aggregation (pkg/controller/clusterroleaggregation) -----------------------

function sameRule(a: PolicyRule, b: PolicyRule): boolean {
  const norm = (r: PolicyRule) => JSON.stringify([r.verbs, r.apiGroups ?? [], r.resources ?? [], r.resourceNames ?? [], r.nonResourceURLs ?? []]);
  return norm(a) === norm(b);
}

/**
 * The rules an aggregated ClusterRole should hold: those of every other ClusterRole its selectors
 * pick, selector by selector, roles in name order, each distinct rule once.
 */
export function aggregateRules(name: string, selectorsMatch: ((labels: Record<string, string>) => boolean)[], roles: (RoleLike & { metadata: { labels?: Record<string, string> } })[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const sorted = [...roles].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0));
  for (const matches of selectorsMatch) {
    for (const role of sorted) {
      if (role.metadata.name === name || !matches(role.metadata.labels ?? {})) continue;
      for (const rule of role.rules ?? []) if (!out.some((r) => sameRule(r, rule))) out.push(rule);
    }
  }
  return out;
}

export function rulesEqual(a: PolicyRule[], b: PolicyRule[]): boolean {
  return a.length === b.length && a.every((r, i) => sameRule(r, b[i]));
}
