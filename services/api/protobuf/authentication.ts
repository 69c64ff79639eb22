// authentication.k8s.io/v1 messages (k8s.io/api authentication/v1 generated.proto) that clients
// post: TokenRequest, the body of `kubectl create token` (serviceaccounts/NAME/token).
import type { MessageTable } from './schema.ts';

export const AUTHENTICATION_MESSAGES: MessageTable = {
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
