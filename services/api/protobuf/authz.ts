// Messages of rbac.authorization.k8s.io/v1 and authorization.k8s.io/v1 (k8s.io/api generated.proto),
// which `kubectl create role|clusterrole|rolebinding|clusterrolebinding` and `kubectl auth can-i`
// send. SubjectAccessReviewSpec's `extra` (field 5, a map of ExtraValue messages, which JSON writes
// as bare lists) is left out: it is skipped, as no kubectl command sends it.
import type { MessageTable } from './schema.ts';

export const AUTHZ_MESSAGES: MessageTable = {
  PolicyRule: {
    1: 'verbs []string always',
    2: 'apiGroups []string',
    3: 'resources []string',
    4: 'resourceNames []string',
    5: 'nonResourceURLs []string',
  },
  Role: {
    1: 'metadata ObjectMeta',
    2: 'rules []PolicyRule always',
  },
  ClusterRole: {
    1: 'metadata ObjectMeta',
    2: 'rules []PolicyRule always',
    3: 'aggregationRule *AggregationRule',
  },
  AggregationRule: {
    1: 'clusterRoleSelectors []LabelSelector',
  },
  Subject: {
    1: 'kind string always',
    2: 'apiGroup string',
    3: 'name string always',
    4: 'namespace string',
  },
  RoleRef: {
    1: 'apiGroup string always',
    2: 'kind string always',
    3: 'name string always',
  },
  RoleBinding: {
    1: 'metadata ObjectMeta',
    2: 'subjects []Subject',
    3: 'roleRef RoleRef',
  },
  ClusterRoleBinding: {
    1: 'metadata ObjectMeta',
    2: 'subjects []Subject',
    3: 'roleRef RoleRef',
  },
  ResourceAttributes: {
    1: 'namespace string',
    2: 'verb string',
    3: 'group string',
    4: 'version string',
    5: 'resource string',
    6: 'subresource string',
    7: 'name string',
  },
  NonResourceAttributes: {
    1: 'path string',
    2: 'verb string',
  },
  SubjectAccessReviewSpec: {
    1: 'resourceAttributes *ResourceAttributes',
    2: 'nonResourceAttributes *NonResourceAttributes',
    3: 'user string',
    4: 'groups []string',
    6: 'uid string',
  },
  SelfSubjectAccessReviewSpec: {
    1: 'resourceAttributes *ResourceAttributes',
    2: 'nonResourceAttributes *NonResourceAttributes',
  },
  SubjectAccessReviewStatus: {
    1: 'allowed bool always',
    4: 'denied bool',
    2: 'reason string',
    3: 'evaluationError string',
  },
  SubjectAccessReview: {
    1: 'metadata ObjectMeta',
    2: 'spec SubjectAccessReviewSpec',
    3: 'status SubjectAccessReviewStatus',
  },
  LocalSubjectAccessReview: {
    1: 'metadata ObjectMeta',
    2: 'spec SubjectAccessReviewSpec',
    3: 'status SubjectAccessReviewStatus',
  },
  SelfSubjectAccessReview: {
    1: 'metadata ObjectMeta',
    2: 'spec SelfSubjectAccessReviewSpec',
    3: 'status SubjectAccessReviewStatus',
  },
  SelfSubjectRulesReviewSpec: {
    1: 'namespace string',
  },
  SelfSubjectRulesReview: {
    1: 'metadata ObjectMeta',
    2: 'spec SelfSubjectRulesReviewSpec',
  },
};
