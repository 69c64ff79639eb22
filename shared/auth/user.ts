// Who is asking: the user an API request is authenticated as, in Kubernetes' shape
// (k8s.io/apiserver/pkg/authentication/user.Info). Authentication (services/api) sets it on every
// request; authorization, admission and the review APIs read it.

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export const SYSTEM_MASTERS = 'system:masters';
export const AUTHENTICATED = 'system:authenticated';
export const UNAUTHENTICATED = 'system:unauthenticated';
export const ANONYMOUS = 'system:anonymous';
export const SERVICE_ACCOUNTS = 'system:serviceaccounts';

/** The cluster's administrator, as k3s' and kubeadm's admin kubeconfig authenticate. */
export const ADMIN: UserInfo = { username: 'system:admin', groups: [SYSTEM_MASTERS, AUTHENTICATED] };

export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** A ServiceAccount's user: its name and the groups Kubernetes gives every service account. */
export function serviceAccountUser(namespace: string, name: string, uid?: string): UserInfo {
  return {
    username: serviceAccountUsername(namespace, name),
    uid,
    groups: [SERVICE_ACCOUNTS, `${SERVICE_ACCOUNTS}:${namespace}`, AUTHENTICATED],
  };
}

/**
 * Turns a bearer token into the user it stands for, or undefined when this authenticator does not
 * know the token (the next one in the chain may). Throws only for a token it recognises as its
 * own but refuses (expired, bound object gone), which ends the chain with 401.
 */
export type TokenAuthenticator = (token: string) => Promise<UserInfo | undefined>;
