// The request filters that run after authentication, in Kubernetes' order: impersonation (a user
// allowed to `impersonate` acts as another: kubectl --as / --as-group), then authorization of what
// the request asks to do (k8s.io/apiserver pkg/endpoints/filters/impersonation.go, authorization.go).
// Both read and replace res.locals.user, the UserInfo authentication set.
import type { NextFunction, Request, Response } from 'express';
import { AUTHENTICATED, ANONYMOUS, UNAUTHENTICATED, serviceAccountUser, type UserInfo } from '../../../shared/auth/user.ts';
import { SERVICE_ACCOUNT_PREFIX, type Attributes } from '../../../shared/auth/rbac.ts';
import { forbiddenStatus, requestAttributes } from '../../../shared/auth/request-info.ts';
import { BadRequestError, ForbiddenError } from '../../../shared/errors.ts';
import type { Authorizer } from './authorizer.ts';

const USER_HEADER = 'impersonate-user';
const GROUP_HEADER = 'impersonate-group';
const UID_HEADER = 'impersonate-uid';
const EXTRA_PREFIX = 'impersonate-extra-';
const AUTHENTICATION_GROUP = 'authentication.k8s.io';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** serviceaccount.SplitUsername: system:serviceaccount:<namespace>:<name>, both valid names. */
export function splitServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_PREFIX)) return undefined;
  const parts = username.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
  if (parts.length !== 2) return undefined;
  const [namespace, name] = parts;
  if (namespace.length > 63 || !DNS_LABEL.test(namespace) || name.length > 253 || !DNS_SUBDOMAIN.test(name)) return undefined;
  return { namespace, name };
}

/** One thing to impersonate, and the attributes of the `impersonate` check it needs. */
interface ImpersonationRequest {
  attrs: Omit<Attributes, 'user'>;
  apply(target: { username: string; groups: string[]; uid: string; extra: Record<string, string[]> }, groupsSpecified: boolean): void;
}

function unescapeExtraKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

/**
 * What the Impersonate-* headers ask for, each to be authorized (buildImpersonationRequests): the
 * user (or service account), each group, each extra value, the uid. Groups, extras or a uid without
 * a user is a bad request.
 */
export function impersonationRequests(headers: Record<string, string[] | undefined>): ImpersonationRequest[] {
  const out: ImpersonationRequest[] = [];
  const resource = (apiGroup: string, resource: string, name: string, extra: Partial<Attributes> = {}) => ({ verb: 'impersonate', resourceRequest: true, apiGroup, resource, name, namespace: '', ...extra });
  const user = headers[USER_HEADER]?.[0] ?? '';
  if (user) {
    const sa = splitServiceAccountUsername(user);
    if (sa) {
      out.push({
        attrs: resource('', 'serviceaccounts', sa.name, { namespace: sa.namespace }),
        apply: (t, groupsSpecified) => {
          t.username = user;
          if (!groupsSpecified) t.groups.push(...serviceAccountUser(sa.namespace, sa.name).groups.filter((g) => g !== AUTHENTICATED));
        },
      });
    } else {
      out.push({ attrs: resource('', 'users', user), apply: (t) => (t.username = user) });
    }
  }
  const groups = headers[GROUP_HEADER] ?? [];
  for (const group of groups) out.push({ attrs: resource('', 'groups', group), apply: (t) => t.groups.push(group) });
  let hasExtra = false;
  for (const [header, values] of Object.entries(headers)) {
    if (!header.startsWith(EXTRA_PREFIX)) continue;
    hasExtra = true;
    const key = unescapeExtraKey(header.slice(EXTRA_PREFIX.length).toLowerCase());
    for (const value of values ?? []) {
      out.push({ attrs: resource(AUTHENTICATION_GROUP, 'userextras', value, { subresource: key }), apply: (t) => (t.extra[key] = [...(t.extra[key] ?? []), value]) });
    }
  }
  const uid = headers[UID_HEADER]?.[0] ?? '';
  if (uid) out.push({ attrs: resource(AUTHENTICATION_GROUP, 'uids', uid), apply: (t) => (t.uid = uid) });
  if ((groups.length || hasExtra || uid) && !user) {
    throw new BadRequestError(`requested impersonation of ${out.map((r) => `${r.attrs.resource} ${JSON.stringify(r.attrs.name)}`).join(', ')} without impersonating a user`);
  }
  return out;
}

/** The user the requests make up: system:authenticated added unless a group says otherwise (anonymous: system:unauthenticated). */
export function impersonatedUser(requests: ImpersonationRequest[], groupsSpecified: boolean): UserInfo {
  const target = { username: '', groups: [] as string[], uid: '', extra: {} as Record<string, string[]> };
  for (const r of requests) r.apply(target, groupsSpecified);
  if (target.username !== ANONYMOUS) {
    if (!target.groups.includes(AUTHENTICATED) && !target.groups.includes(UNAUTHENTICATED)) target.groups.push(AUTHENTICATED);
  } else if (!target.groups.includes(UNAUTHENTICATED)) {
    target.groups.push(UNAUTHENTICATED);
  }
  return {
    username: target.username,
    groups: target.groups,
    ...(target.uid ? { uid: target.uid } : {}),
    ...(Object.keys(target.extra).length ? { extra: target.extra } : {}),
  };
}

function forbidden(attrs: Omit<Attributes, 'user'>, user: UserInfo, reason: string): ForbiddenError {
  const { message, details } = forbiddenStatus(attrs, user, reason);
  return new ForbiddenError(message, details);
}

type Middleware = (req: Request, res: Response, next: NextFunction) => void;

function asyncMiddleware(fn: (req: Request, res: Response) => Promise<void>): Middleware {
  return (req, res, next) => {
    fn(req, res).then(() => next(), next);
  };
}

/** Impersonate-User / -Group / -Uid / -Extra-*: each authorized with the `impersonate` verb for the real user. */
export function impersonation(authorizer: Authorizer): Middleware {
  return asyncMiddleware(async (req, res) => {
    const headers = req.headersDistinct as Record<string, string[] | undefined>;
    if (!Object.keys(headers).some((h) => h === USER_HEADER || h === GROUP_HEADER || h === UID_HEADER || h.startsWith(EXTRA_PREFIX))) return;
    const requests = impersonationRequests(headers);
    const requestor = res.locals.user as UserInfo;
    for (const r of requests) {
      const decision = await authorizer.authorize({ ...r.attrs, user: requestor });
      if (!decision.allowed) throw forbidden(r.attrs, requestor, decision.reason);
    }
    res.locals.impersonatedBy = requestor;
    res.locals.user = impersonatedUser(requests, (headers[GROUP_HEADER] ?? []).length > 0);
    for (const h of Object.keys(req.headers)) if (h === USER_HEADER || h === GROUP_HEADER || h === UID_HEADER || h.startsWith(EXTRA_PREFIX)) delete req.headers[h];
  });
}

/** Refuses (403, worded as Kubernetes) what the user may not do; everything else goes on. */
export function authorization(authorizer: Authorizer): Middleware {
  return asyncMiddleware(async (req, res) => {
    const user = res.locals.user as UserInfo;
    const attrs = requestAttributes({ method: req.method, path: req.path, query: req.query as Record<string, unknown> });
    const decision = await authorizer.authorize({ ...attrs, user });
    if (!decision.allowed) throw forbidden(attrs, user, decision.reason);
  });
}
