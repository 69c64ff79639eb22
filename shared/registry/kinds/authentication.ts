// authentication.k8s.io/v1 TokenReview and SelfSubjectReview (Kubernetes
// pkg/registry/authentication/tokenreview, selfsubjectreview): who a bearer token stands for, and
// who the caller is (`kubectl auth whoami`). Created, answered, never stored: see CreateOnlyKind.
import { OPENAPI, objectMeta } from '../../api/schemas.ts';
import { resourceInfo, type CreateOnlyKind } from '../strategy.ts';

const str = { type: 'string' };
const strArr = { type: 'array', items: str };

/** authentication.k8s.io/v1 UserInfo, as a status carries it (open: written by the server only). */
const userInfo = {
  type: 'object',
  properties: {
    username: str,
    uid: str,
    groups: strArr,
    extra: { type: 'object', additionalProperties: strArr },
  },
  [OPENAPI]: { definition: 'io.k8s.api.authentication.v1.UserInfo' },
};

const kindOf = (kind: string, spec: Record<string, unknown> | undefined, status: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  properties: {
    apiVersion: str,
    kind: str,
    metadata: objectMeta,
    ...(spec ? { spec } : {}),
    status: { type: 'object', properties: status },
  },
  additionalProperties: false,
  ...(required.length ? { required } : {}),
  [OPENAPI]: { definition: `io.k8s.api.authentication.v1.${kind}` },
});

export const tokenReviewKind: CreateOnlyKind = {
  resource: resourceInfo({ group: 'authentication.k8s.io', plural: 'tokenreviews', kind: 'TokenReview', namespaced: false, verbs: ['create'] }),
  schema: kindOf(
    'TokenReview',
    {
      type: 'object',
      properties: { token: str, audiences: strArr },
      additionalProperties: false,
      [OPENAPI]: { definition: 'io.k8s.api.authentication.v1.TokenReviewSpec' },
    },
    { authenticated: { type: 'boolean' }, user: userInfo, audiences: strArr, error: str },
    ['spec'],
  ),
  // The token's absence is a 400 (Kubernetes' REST Create), not a validation error.
  validate: () => [],
};

export const selfSubjectReviewKind: CreateOnlyKind = {
  resource: resourceInfo({ group: 'authentication.k8s.io', plural: 'selfsubjectreviews', kind: 'SelfSubjectReview', namespaced: false, verbs: ['create'] }),
  schema: kindOf('SelfSubjectReview', undefined, { userInfo }),
  validate: () => [],
};
