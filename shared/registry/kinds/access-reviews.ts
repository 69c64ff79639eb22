// authorization.k8s.io/v1 SubjectAccessReview, SelfSubjectAccessReview, LocalSubjectAccessReview and
// SelfSubjectRulesReview: create-only kinds, answered and never stored (Kubernetes
// pkg/registry/authorization/*, pkg/apis/authorization/validation). The API server decides them
// (services/api/authz/reviews.ts); this is their API face and what a client's body must be.
import type { KubeObject, StatusCause } from '../../types.ts';
import { schemaFor } from '../../api/schemas.ts';
import { invalid } from '../../api/validation.ts';
import { resourceInfo, type CreateOnlyKind } from '../strategy.ts';

export const AUTHORIZATION_GROUP = 'authorization.k8s.io';

const info = (plural: string, kind: string, namespaced = false) => resourceInfo({ group: AUTHORIZATION_GROUP, plural, kind, namespaced, verbs: ['create'] });

/** Go's %#v of an attributes pointer as field errors print it (the types are internal). */
function goValue(type: string, value: any): string {
  if (value === undefined || value === null) return 'null';
  const fields = Object.entries(value).map(([k, v]) => `${k[0].toUpperCase()}${k.slice(1)}:${JSON.stringify(v)}`).join(', ');
  return `&authorization.${type}{${fields}}`;
}
const invalidRaw = (field: string, shown: string, why: string): StatusCause => ({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${shown}: ${why}` });

/** ValidateSubjectAccessReviewSpec (withSubject) / ValidateSelfSubjectAccessReviewSpec: exactly one kind of attributes. */
function specErrors(spec: any, withSubject: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  const res = spec?.resourceAttributes;
  const non = spec?.nonResourceAttributes;
  if (res && non) out.push(invalidRaw('spec.nonResourceAttributes', goValue('NonResourceAttributes', non), 'cannot be specified in combination with resourceAttributes'));
  if (!res && !non) out.push(invalidRaw('spec.resourceAttributes', 'null', 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  if (withSubject && !spec?.user && !(spec?.groups ?? []).length) out.push(invalid('spec.user', spec?.user ?? '', 'at least one of user or group must be specified'));
  return out;
}

/** metadata of a review must be empty (managedFields aside; namespace too for the local one). */
function metadataErrors(obj: KubeObject, allowNamespace: boolean): StatusCause[] {
  const { managedFields: _m, namespace, ...rest } = obj.metadata ?? {};
  const empty = Object.values(rest).every((v) => v === undefined || v === null || v === '' || (typeof v === 'object' && !Object.keys(v).length));
  if (empty && (allowNamespace || !namespace)) return [];
  return [invalidRaw('metadata', 'v1.ObjectMeta{...}', allowNamespace ? 'must be empty except for namespace' : 'must be empty')];
}

export const subjectAccessReviewKind: CreateOnlyKind = {
  resource: info('subjectaccessreviews', 'SubjectAccessReview'),
  schema: schemaFor('SubjectAccessReview')!,
  validate: (sar) => [...specErrors(sar.spec, true), ...metadataErrors(sar, false)],
};

export const selfSubjectAccessReviewKind: CreateOnlyKind = {
  resource: info('selfsubjectaccessreviews', 'SelfSubjectAccessReview'),
  schema: schemaFor('SelfSubjectAccessReview')!,
  validate: (sar) => [...specErrors(sar.spec, false), ...metadataErrors(sar, false)],
};

export const localSubjectAccessReviewKind: CreateOnlyKind = {
  resource: info('localsubjectaccessreviews', 'LocalSubjectAccessReview', true),
  schema: schemaFor('LocalSubjectAccessReview')!,
  validate(sar) {
    const out = [...specErrors(sar.spec, true), ...metadataErrors(sar, true)];
    const res = sar.spec?.resourceAttributes;
    if (res && (res.namespace ?? '') !== (sar.metadata?.namespace ?? '')) out.push(invalid('spec.resourceAttributes.namespace', res.namespace ?? '', 'must match metadata.namespace'));
    if (sar.spec?.nonResourceAttributes) out.push(invalidRaw('spec.nonResourceAttributes', goValue('NonResourceAttributes', sar.spec.nonResourceAttributes), 'disallowed on this kind of request'));
    return out;
  },
};

export const selfSubjectRulesReviewKind: CreateOnlyKind = {
  resource: info('selfsubjectrulesreviews', 'SelfSubjectRulesReview'),
  schema: schemaFor('SelfSubjectRulesReview')!,
  validate: () => [],
};
