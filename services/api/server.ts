// The API server's HTTP surface: health, discovery, metrics, and every resource path routed to
// the handlers. Stateless: all it knows is in Redis, so any number can run side by side.
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import type { Store } from '../../shared/store/store.ts';
import { ApiError, RequestEntityTooLargeError, toStatus, BadRequestError, storeFailure, TimeoutError, REQUEST_DEADLINE_EXCEEDED } from '../../shared/errors.ts';
import { redisReadiness } from '../../shared/redis.ts';
import { metricsRegistry, apiRequestDuration, apiRequestTotal } from '../../shared/metrics.ts';
import type { Logger } from '../../shared/log.ts';
import { handle } from './handlers.ts';
import { mediaTypeOf, parseResourcePath, parseResourcePathQuietly, queryBool } from './request.ts';
import { prepareYamlBody } from './yaml-body.ts';
import { requestMetricLabels } from './request-metrics.ts';
import type { WakeHub } from './watch.ts';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery.ts';
import type { OpenApiV3 } from './openapi.ts';
import type { ServiceAccountTokens } from '../../shared/auth/service-account-tokens.ts';
import type { RequestAuthenticator } from './authentication.ts';
import type { CreateOnlyHandlers } from './create-only.ts';
import type { AgentClientCredentials } from './logs.ts';
import type { UserInfo } from '../../shared/auth/user.ts';
import type { Authorizer } from './authz/authorizer.ts';
import { authorization, impersonation } from './authz/filters.ts';
import { isStreamingSubresource } from './stream-tunnel.ts';
import { reviewHandlers } from './authz/reviews.ts';
import { METRICS_GROUP, metricsResourceList, serveMetricsApi } from './metrics-api.ts';
import type { Keys } from '../../shared/keys.ts';

export interface ApiServerDeps {
  store: Store;
  redis: Redis;
  hub: WakeHub;
  log: Logger;
  maxBodyBytes: number;
  advertiseAddress: () => string;
  openapi: OpenApiV3;
  /** Decides what each user may do (RBAC over the informer cache). */
  authorizer: Authorizer;
  /** The longest a request other than a watch or a log stream may take before it is answered 504. */
  requestTimeoutMs?: number;
  /** ServiceAccount tokens: the TokenRequest API signs them, authentication verifies them. */
  tokens: ServiceAccountTokens;
  /** Who each request is: sets res.locals.user (a UserInfo), or answers 401. */
  authenticator: RequestAuthenticator;
  /** The answers of the create-only kinds (TokenReview, SelfSubjectReview...), by kind. */
  createOnly: CreateOnlyHandlers;
  /** What the API server presents to node agents (its client certificate) and trusts them with. */
  agentClient: AgentClientCredentials;
  /** metrics.k8s.io: where the node agents' usage samples are, and how old one may be. */
  resourceMetrics: { keys: Keys; maxAgeMs: number };
}

/** How long /readyz waits for Redis to answer a PING on a connection that looks fine. */
const READY_PING_MS = 1_000;

type AsyncHandler = (req: Request, res: Response) => Promise<void> | void;

function wrap(fn: AsyncHandler) {
  return (req: Request, res: Response, next: NextFunction) => {
    Promise.resolve(fn(req, res)).catch(next);
  };
}

export function createApiServer(deps: ApiServerDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use(requestDeadline(deps.requestTimeoutMs ?? 60_000));

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    const labels = requestMetricLabels(req);
    // 'close', not 'finish': a watch or log stream the client hangs up on never finishes.
    res.once('close', () => {
      apiRequestDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      apiRequestTotal.inc({ ...labels, code: String(res.statusCode) });
    });
    next();
  });

  // Every request let through carries the user it is authenticated as, in res.locals.user (a
  // UserInfo); one without credentials is anonymous on the health and version paths only.
  app.use(deps.authenticator.middleware());
  // After authentication, as Kubernetes orders its filters: impersonation, then authorization of
  // everything, health and discovery included (the default roles grant those to everyone).
  app.use(impersonation(deps.authorizer));
  app.use(authorization(deps.authorizer));

  const ping = async (_req: Request, res: Response) => {
    res.type('text/plain').send('ok');
  };
  app.get(['/healthz', '/livez'], wrap(ping));
  app.get('/readyz', wrap(async (_req, res) => {
    const problem = await redisReadiness(deps.redis, READY_PING_MS);
    if (problem) res.status(503).type('text/plain').send(`redis: ${problem}`);
    else res.type('text/plain').send('ok');
  }));
  app.get('/metrics', wrap(async (_req, res) => {
    res.type(metricsRegistry.contentType).send(await metricsRegistry.metrics());
  }));
  app.get('/version', (_req, res) => {
    res.json(SERVER_VERSION);
  });
  app.get('/api', (_req, res) => {
    res.json(apiVersions(deps.advertiseAddress()));
  });
  app.get('/apis', (_req, res) => {
    res.json(apiGroupList());
  });
  app.get('/openapi/v3', (_req, res) => {
    res.json(deps.openapi.index());
  });
  app.get(/^\/openapi\/v3\/(.+)$/, (req, res, next) => {
    const doc = deps.openapi.document(req.params[0]);
    if (!doc) return next(notFoundPath());
    // Documents are addressed by content hash, so clients may cache them for good.
    if (req.query.hash) res.setHeader('Cache-Control', 'public, immutable');
    res.type('application/json').send(doc);
  });

  app.use(express.raw({ type: () => true, limit: deps.maxBodyBytes }));
  // A large YAML body is parsed on a worker thread, so that this one keeps answering meanwhile.
  app.use((req, _res, next) => {
    prepareYamlBody(req.body, mediaTypeOf(req.headers['content-type'], '')).then(() => next(), next);
  });

  const ctx = { store: deps.store, hub: deps.hub, log: deps.log, createOnly: { ...deps.createOnly, ...reviewHandlers(deps.authorizer) }, agentClient: deps.agentClient, tokens: deps.tokens, requester: (user: UserInfo) => deps.authorizer.requester(user) };
  app.use(wrap(async (req, res) => {
    const parts = req.path.split('/').filter(Boolean);
    if (req.method === 'GET' && parts[0] === 'api' && parts.length === 2) {
      const list = apiResourceList('', parts[1]);
      if (!list) throw notFoundPath();
      res.json(list);
      return;
    }
    if (req.method === 'GET' && parts[0] === 'apis' && parts.length === 2) {
      const group = apiGroup(parts[1]);
      if (!group) throw notFoundPath();
      res.json(group);
      return;
    }
    if (parts[0] === 'apis' && parts[1] === METRICS_GROUP) {
      if (req.method === 'GET' && parts.length === 3 && parts[2] === 'v1beta1') {
        res.json(metricsResourceList());
        return;
      }
      if (await serveMetricsApi({ store: deps.store, redis: deps.redis, ...deps.resourceMetrics }, req, res)) return;
      throw notFoundPath();
    }
    if (req.method === 'GET' && parts[0] === 'apis' && parts.length === 3) {
      const list = apiResourceList(parts[1], parts[2]);
      if (!list) throw notFoundPath();
      res.json(list);
      return;
    }
    const path = parseResourcePath(req.path);
    if (!path) throw notFoundPath();
    await handle(ctx, req, res, path);
  }));

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    // Answered 504 already: what the handler did after that is no news to anyone.
    if (res.locals.deadlineExceeded) return;
    let error = err;
    const type = (err as { type?: string })?.type;
    if (type === 'entity.too.large') error = new RequestEntityTooLargeError(deps.maxBodyBytes);
    else if (type && type.startsWith('entity.')) error = new BadRequestError((err as Error).message);
    // A Redis outage is reported once by its connection, not once a request.
    else if (!(error instanceof ApiError)) error = storeFailure(err) ?? error;
    if (!(error instanceof ApiError)) deps.log.error({ err: (err as Error)?.stack ?? String(err), path: req.path }, 'request failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    sendStatus(res, error);
  });
  return app;
}

/** A failure as a Kubernetes Status, with Retry-After when it says when to try again (client-go waits and retries). */
function sendStatus(res: Response, error: unknown): void {
  const status = toStatus(error);
  const retryAfter = status.details?.retryAfterSeconds;
  if (retryAfter) res.setHeader('Retry-After', String(retryAfter));
  res.status(status.code).json(status);
}

/** Kubernetes' long-running requests, which no request deadline covers: watches, log streams, exec, attach and port-forward. */
function isLongRunning(req: Request): boolean {
  const path = parseResourcePathQuietly(req.path);
  return queryBool(req, 'watch') || !!path?.watch || path?.subresource === 'log' || isStreamingSubresource(path?.subresource);
}

/**
 * Answers 504 (Kubernetes' "Timeout: request did not complete within the allotted timeout") to a
 * request that has not been answered within timeoutMs, receiving its body included. The handler
 * may still finish its work afterwards, as Kubernetes' may: the outcome of a write answered so
 * is unknown to the client.
 */
function requestDeadline(timeoutMs: number) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (isLongRunning(req)) return next();
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      sendStatus(res, new TimeoutError(REQUEST_DEADLINE_EXCEEDED));
      res.locals.deadlineExceeded = true;
    }, timeoutMs);
    res.on('close', () => clearTimeout(timer));
    next();
  };
}

/** A path that names nothing served: Kubernetes' mux answers "404 page not found", which clients show as this Status. */
function notFoundPath(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', { causes: [{ reason: 'UnexpectedServerResponse', message: '404 page not found', field: '' }] });
}

/**
 * What to answer a request Node's HTTP parser refuses before any handler sees it, as a Kubernetes
 * Status: a method it does not know (Go's server takes any token, and Kubernetes answers 405), headers
 * larger than it takes, a request not received in time, a request line or header that is no HTTP.
 * Node's own answers to these carry no body.
 */
export function malformedRequestStatus(err: { code?: string; reason?: string; message: string }): ApiError {
  switch (err.code) {
    case 'HPE_INVALID_METHOD':
      return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError(431, 'RequestEntityTooLarge', 'Request Header Fields Too Large: the request\'s headers are larger than the server accepts');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiError(408, 'Timeout', 'Timeout: the request was not received within the allotted timeout');
    default:
      return new BadRequestError(`malformed HTTP request: ${err.reason ?? err.message}`);
  }
}

/** Answers what the HTTP parser refuses (see malformedRequestStatus) and closes the connection, as Node does. */
export function answerMalformedRequests(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException & { reason?: string }, socket: Duplex) => {
    // A response already under way on this connection (a watch) cannot be followed by another.
    const responding = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (err.code !== 'ECONNRESET' && socket.writable && !responding) {
      const status = toStatus(malformedRequestStatus(err));
      const body = JSON.stringify(status);
      socket.write(`HTTP/1.1 ${status.code} ${STATUS_CODES[status.code]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    }
    socket.destroy();
  });
}
