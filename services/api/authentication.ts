// Who a request is (Kubernetes' k8s.io/apiserver authentication filter): an X.509 client
// certificate the cluster CA issued (CN = user, O = groups), else a bearer token one of the token
// authenticators knows (the admin token, ServiceAccount tokens). Every authenticated user is in
// system:authenticated. A request with no credentials is anonymous only on the paths Kubernetes'
// system:public-info-viewer opens (health and version); elsewhere, and for any credential that
// fails, the answer is 401 as Kubernetes words it. TokenReview and SelfSubjectReview answer from here.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket, PeerCertificate } from 'node:tls';
import type { NextFunction, Request, Response } from 'express';
import { ANONYMOUS, AUTHENTICATED, UNAUTHENTICATED, ADMIN, type TokenAuthenticator, type UserInfo } from '../../shared/auth/user.ts';
import { CREDENTIAL_FIELDS, digestsEqual, tokenDigest } from '../../shared/auth/cluster-credentials.ts';
import { ApiError, BadRequestError } from '../../shared/errors.ts';
import type { Store } from '../../shared/store/store.ts';
import type { KubeObject } from '../../shared/types.ts';
import type { Logger } from '../../shared/log.ts';
import type { CreateOnlyHandler } from './create-only.ts';

/** 401 as Kubernetes answers it: a Status with reason Unauthorized and the message "Unauthorized". */
export class UnauthorizedError extends ApiError {
  constructor(readonly why?: string) {
    super(401, 'Unauthorized', 'Unauthorized');
  }
}

/** A credential that was presented and refused: the request is 401, whatever else it carries. */
export class CredentialRefusedError extends Error {}

export const ANONYMOUS_USER: UserInfo = { username: ANONYMOUS, groups: [UNAUTHENTICATED] };

/**
 * The paths a request without credentials may reach (Kubernetes' system:public-info-viewer, and
 * 1.32's anonymous-auth endpoints): liveness, readiness and the version.
 */
const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version', '/version/']);

export function isPublicInfoPath(path: string): boolean {
  return PUBLIC_PATHS.has(path);
}

/**
 * The token of an `Authorization: Bearer <token>` header, as Kubernetes' bearertoken authenticator
 * reads it; undefined when the header is absent, of another scheme, or names no token (then it is
 * no credential at all, not a bad one).
 */
export function bearerTokenOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const parts = header.trim().split(' ');
  if (parts.length < 2 || parts[0].toLowerCase() !== 'bearer') return undefined;
  return parts[1] || undefined;
}

type Attribute = string | string[] | undefined;
const values = (a: Attribute): string[] => (a === undefined ? [] : Array.isArray(a) ? a : [a]);

/**
 * The user a verified client certificate names (Kubernetes' CommonNameUserConversion): CN the
 * username, each O a group; undefined for a certificate without a CN (no user, not an error).
 */
export function userFromCertificateSubject(subject: { CN?: Attribute; O?: Attribute } | undefined): UserInfo | undefined {
  // Go's pkix.Name keeps the last CN of a subject that holds several.
  const username = values(subject?.CN).at(-1);
  if (!username) return undefined;
  return { username, groups: values(subject?.O) };
}

/** Adds system:authenticated to an authenticated user's groups, once (Kubernetes' AuthenticatedGroupAdder). */
export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.username === ANONYMOUS || user.groups.includes(AUTHENTICATED)) return user;
  return { ...user, groups: [...user.groups, AUTHENTICATED] };
}

/** The result of authenticating a request: a user, no credentials at all, or a credential refused. */
export type Authentication = { user: UserInfo } | { none: true } | { refused: string };

/** How long the admin token's digest read from Redis is trusted before it is read again (in the background). */
const ADMIN_DIGEST_TTL_MS = 10_000;
/** A token that does not match is checked against a fresh digest at most this often. */
const ADMIN_DIGEST_RECHECK_MS = 1_000;

/**
 * The administrator's bearer token: its SHA-256 digest is in Redis (set by the API server that
 * holds the token's file), so every replica accepts it and none learns it. The digest is cached: a
 * rotated token takes effect on every replica within ADMIN_DIGEST_TTL_MS, and while Redis is away
 * the digest read last still holds, so the admin is not locked out of a cluster it must repair.
 */
export class AdminTokenAuthenticator {
  private digest: string | null = null;
  private readAt = -Infinity;
  private reading?: Promise<void>;

  constructor(private readonly store: Store, private readonly now: () => number = Date.now) {}

  /** Stores the digest of this server's admin token for every replica to check against. */
  async register(token: string): Promise<void> {
    const digest = tokenDigest(token);
    await this.store.setPrivateCredential(CREDENTIAL_FIELDS.adminTokenDigest, digest);
    this.digest = digest;
    this.readAt = this.now();
  }

  /** Reads the digest again, once at a time; a failure keeps the digest known (or fails with none known yet). */
  private refresh(): Promise<void> {
    this.reading ??= (async () => {
      this.readAt = this.now();
      try {
        this.digest = await this.store.privateCredential(CREDENTIAL_FIELDS.adminTokenDigest);
      } catch (err) {
        if (this.digest === null) throw err;
      } finally {
        this.reading = undefined;
      }
    })();
    return this.reading;
  }

  private matches(token: string): boolean {
    return this.digest !== null && digestsEqual(tokenDigest(token), this.digest);
  }

  readonly authenticate: TokenAuthenticator = async (token) => {
    if (this.digest === null && this.now() - this.readAt > ADMIN_DIGEST_RECHECK_MS) await this.refresh();
    else if (this.now() - this.readAt > ADMIN_DIGEST_TTL_MS) void this.refresh().catch(() => undefined);
    if (this.matches(token)) return ADMIN;
    // A token just rotated in by another replica: read the digest again, but not for every stranger's token.
    if (this.now() - this.readAt > ADMIN_DIGEST_RECHECK_MS) {
      await this.refresh();
      if (this.matches(token)) return ADMIN;
    }
    return undefined;
  };
}

/** The authenticators of one API server: client certificates (checked by TLS against the cluster CA), then tokens. */
export class RequestAuthenticator {
  constructor(private readonly tokenAuthenticators: TokenAuthenticator[], private readonly log?: Logger) {}

  /** A bearer token's user, or why it is refused (Kubernetes' "invalid bearer token" when none knows it). */
  async authenticateToken(token: string): Promise<{ user: UserInfo } | { refused: string }> {
    for (const authenticate of this.tokenAuthenticators) {
      let user: UserInfo | undefined;
      try {
        user = await authenticate(token);
      } catch (err) {
        if (err instanceof ApiError && err.code >= 500) throw err;
        // An authenticator that recognises the token as its own but refuses it ends the chain.
        return { refused: (err as Error).message };
      }
      if (user) return { user: withAuthenticatedGroup(user) };
    }
    return { refused: 'invalid bearer token' };
  }

  /**
   * The user of a request. As Kubernetes' union of authenticators: a credential that fails does not
   * stop the next from being tried; the request is refused only when one failed and none succeeded.
   */
  async authenticateRequest(req: IncomingMessage): Promise<Authentication> {
    const failures: string[] = [];
    const socket = req.socket as TLSSocket;
    const cert: PeerCertificate | undefined = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
    if (cert && Object.keys(cert).length) {
      if (socket.authorized) {
        const user = userFromCertificateSubject(cert.subject as { CN?: Attribute; O?: Attribute });
        if (user) return { user: withAuthenticatedGroup(user) };
      } else {
        failures.push(`x509: ${String(socket.authorizationError ?? 'certificate not verified')}`);
      }
    }
    const token = bearerTokenOf(req.headers.authorization);
    if (token !== undefined) {
      const result = await this.authenticateToken(token);
      if ('user' in result) return result;
      failures.push(result.refused);
    }
    if (failures.length) return { refused: failures.join('; ') };
    return { none: true };
  }

  /** Express middleware: res.locals.user for every request let through, 401 for the others. */
  middleware() {
    return (req: Request, res: Response, next: NextFunction) => {
      this.authenticateRequest(req).then((result) => {
        if ('user' in result) {
          res.locals.user = result.user;
          return next();
        }
        if ('none' in result && isPublicInfoPath(req.path)) {
          res.locals.user = ANONYMOUS_USER;
          return next();
        }
        this.log?.debug({ path: req.path, why: 'refused' in result ? result.refused : 'no credentials' }, 'unauthenticated request');
        next(new UnauthorizedError());
      }, next);
    };
  }

  /** authentication.k8s.io/v1 TokenReview and SelfSubjectReview, for the API server's create-only kinds. */
  reviews(): Record<string, CreateOnlyHandler> {
    return {
      TokenReview: async (obj) => {
        const token = (obj.spec as { token?: string } | undefined)?.token;
        if (!token) throw new BadRequestError('token is required for TokenReview in authentication');
        const result = await this.authenticateToken(token);
        const status: Record<string, unknown> = 'user' in result
          ? { authenticated: true, user: userInfoOf(result.user) }
          : { user: {}, error: result.refused };
        return { ...obj, status };
      },
      SelfSubjectReview: async (obj: KubeObject, { user }) => ({
        ...obj,
        metadata: { ...obj.metadata, creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') },
        status: { userInfo: userInfoOf(user) },
      }),
    };
  }
}

/** authentication.k8s.io/v1 UserInfo as JSON writes it: empty fields left out. */
function userInfoOf(user: UserInfo): Record<string, unknown> {
  return {
    username: user.username,
    ...(user.uid ? { uid: user.uid } : {}),
    ...(user.groups.length ? { groups: user.groups } : {}),
    ...(user.extra && Object.keys(user.extra).length ? { extra: user.extra } : {}),
  };
}
