// Messages of authentication.k8s.io/v1 (k8s.io/api authentication/v1 generated.proto): the review
// kinds kubectl's typed client sends (`kubectl auth whoami` posts a SelfSubjectReview). A status
// is the server's to fill in; UserInfo.extra (a map of ExtraValue messages) is left out and skipped.
// TokenRequest is the body of `kubectl create token` (serviceaccounts/NAME/token).
import type { MessageTable } from './schema.ts';

export const AUTHENTICATION_MESSAGES: MessageTable = {
  TokenReview: {
    1: 'metadata ObjectMeta',
    2: 'spec TokenReviewSpec always',
    3: 'status TokenReviewStatus always',
  },
  TokenReviewSpec: {
    1: 'token string',
    2: 'audiences []string',
  },
  TokenReviewStatus: {
    1: 'authenticated bool',
    2: 'user UserInfo always',
    3: 'error string',
    4: 'audiences []string',
  },
  UserInfo: {
    1: 'username string',
    2: 'uid string',
    3: 'groups []string',
  },
  SelfSubjectReview: {
    1: 'metadata ObjectMeta',
    2: 'status SelfSubjectReviewStatus always',
  },
  SelfSubjectReviewStatus: {
    1: 'userInfo UserInfo always',
  },
  TokenRequest: {
    1: 'metadata ObjectMeta',
    2: 'spec TokenRequestSpec',
    3: 'status TokenRequestStatus',
  },
  TokenRequestSpec: {
    1: 'audiences []string always',
    3: 'boundObjectRef *BoundObjectReference',
    4: 'expirationSeconds *int64',
  },
  BoundObjectReference: {
    1: 'kind string',
    2: 'apiVersion string',
    3: 'name string',
    4: 'uid string',
  },
  TokenRequestStatus: {
    1: 'token string always',
    2: 'expirationTimestamp Time',
  },
};
