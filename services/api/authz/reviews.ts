// The access reviews (authorization.k8s.io/v1), answered by the API server's authorizer and never
// stored (Kubernetes pkg/registry/authorization/*): may this user do this (SubjectAccessReview,
// LocalSubjectAccessReview), may I (SelfSubjectAccessReview: `kubectl auth can-i`), and what may I
// do in a namespace (SelfSubjectRulesReview: `kubectl auth can-i --list`).
import type { KubeObject } from '../../../shared/types.ts';
import type { UserInfo } from '../../../shared/auth/user.ts';
import { aggregateErrors, type Attributes } from '../../../shared/auth/rbac.ts';
import { BadRequestError } from '../../../shared/errors.ts';
import type { CreateOnlyContext, CreateOnlyHandlers } from '../create-only.ts';
import type { Authorizer } from './authorizer.ts';

/** AuthorizationAttributesFrom: a review's spec as the attributes of a request. */
export function reviewAttributes(spec: any, user: UserInfo): Attributes {
  const res = spec?.resourceAttributes;
  if (res) {
    return {
      user,
      verb: res.verb ?? '',
      resourceRequest: true,
      namespace: res.namespace ?? '',
      apiGroup: res.group ?? '',
      apiVersion: res.version ?? '',
      resource: res.resource ?? '',
      subresource: res.subresource ?? '',
      name: res.name ?? '',
    };
  }
  const non = spec?.nonResourceAttributes ?? {};
  return { user, verb: non.verb ?? '', resourceRequest: false, path: non.path ?? '' };
}

/** The user a SubjectAccessReview asks about. */
function specUser(spec: any): UserInfo {
  return {
    username: spec?.user ?? '',
    groups: spec?.groups ?? [],
    ...(spec?.uid ? { uid: spec.uid } : {}),
    ...(spec?.extra ? { extra: spec.extra } : {}),
  };
}

function accessStatus(decision: { allowed: boolean; reason: string }) {
  return { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) };
}

/** The review kinds' handlers: each answers with the object sent and the status it computes. */
export function reviewHandlers(authorizer: Authorizer): CreateOnlyHandlers {
  type StatusOf = (obj: KubeObject, request: CreateOnlyContext) => Promise<unknown>;
  const subjectReview: StatusOf = async (obj) => accessStatus(await authorizer.authorize(reviewAttributes(obj.spec, specUser(obj.spec))));
  const selfReview: StatusOf = async (obj, request) => accessStatus(await authorizer.authorize(reviewAttributes(obj.spec, request.user)));
  const rulesReview: StatusOf = async (obj, request) => {
    const namespace = obj.spec?.namespace ?? '';
    if (!namespace) throw new BadRequestError('no namespace on request');
    const { rules, errors } = await authorizer.rulesFor(request.user, namespace);
    const resourceRules = rules.filter((r) => (r.resources ?? []).length).map((r) => ({
      verbs: r.verbs,
      ...(r.apiGroups?.length ? { apiGroups: r.apiGroups } : {}),
      resources: r.resources,
      ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
    }));
    const nonResourceRules = rules.filter((r) => (r.nonResourceURLs ?? []).length).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs }));
    // As Kubernetes' RBAC: the rules found are complete as far as it knows; errors are reported beside them.
    return { resourceRules, nonResourceRules, incomplete: false, ...(errors.length ? { evaluationError: aggregateErrors(errors) } : {}) };
  };
  const answering = (status: StatusOf) => async (obj: KubeObject, request: CreateOnlyContext) => ({ ...obj, status: await status(obj, request) });
  return {
    SubjectAccessReview: answering(subjectReview),
    LocalSubjectAccessReview: answering(subjectReview),
    SelfSubjectAccessReview: answering(selfReview),
    SelfSubjectRulesReview: answering(rulesReview),
  };
}
