// Errors are classes that say when they are thrown; the API edge turns each into one Kubernetes
// Status (toStatus), so handlers never build Status objects by hand.
import type { StatusCause } from './types.ts';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

/** Base class: every API-visible failure carries its HTTP code and Kubernetes reason. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

function gk(group: string | undefined, resource: string): string {
  return group ? `${resource}.${group}` : resource;
}

/** The object asked for does not exist (404). */
export class NotFoundError extends ApiError {
  constructor(resource: string, name: string, group = '') {
    super(404, 'NotFound', `${gk(group, resource)} "${name}" not found`, { name, group, kind: resource });
  }
}

/** Create of a name that is taken (409). */
export class AlreadyExistsError extends ApiError {
  constructor(resource: string, name: string, group = '') {
    super(409, 'AlreadyExists', `${gk(group, resource)} "${name}" already exists`, { name, group, kind: resource });
  }
}

/** A write carried a resourceVersion or uid precondition that no longer holds (409). */
export class ConflictError extends ApiError {
  constructor(resource: string, name: string, group = '', why = 'the object has been modified; please apply your changes to the latest version and try again') {
    super(409, 'Conflict', `Operation cannot be fulfilled on ${gk(group, resource)} "${name}": ${why}`, { name, group, kind: resource });
  }
}

/** Server-side apply would change fields other field managers own (409); causes name each field. */
export class ApplyConflictError extends ApiError {
  constructor(message: string, causes: StatusCause[]) {
    super(409, 'Conflict', message, { causes });
  }
}

/** Schema or semantic validation failed (422); causes name each offending field. */
export class InvalidError extends ApiError {
  constructor(kind: string, name: string, causes: StatusCause[], group = '') {
    const summary = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
    const list = summary.length === 1 ? summary[0] : `[${summary.join(', ')}]`;
    super(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${list}`, { name, group, kind, causes });
  }
}

/** The request could not be understood: malformed body, bad query parameter (400). */
export class BadRequestError extends ApiError {
  constructor(message: string, causes?: StatusCause[]) {
    super(400, 'BadRequest', message, causes ? { causes } : undefined);
  }
}

export class MethodNotAllowedError extends ApiError {
  constructor(message: string) {
    super(405, 'MethodNotAllowed', message);
  }
}

export class UnsupportedMediaTypeError extends ApiError {
  constructor(contentType: string) {
    super(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/merge-patch+json, application/json-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got "${contentType}")`);
  }
}

export class RequestEntityTooLargeError extends ApiError {
  constructor(limitBytes: number) {
    super(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limitBytes}`);
  }
}

/** Watch from a resourceVersion older than the retained history (410): clients relist. */
export class ExpiredError extends ApiError {
  constructor(rv: string, oldest: string) {
    super(410, 'Expired', `too old resource version: ${rv} (${oldest})`);
  }
}

export class ForbiddenError extends ApiError {
  constructor(message: string, details?: StatusDetails) {
    super(403, 'Forbidden', message, details);
  }
}

/** An eviction refused by a disruption budget, or a request the server is too busy for (429). */
export class TooManyRequestsError extends ApiError {
  constructor(message: string, details?: StatusDetails) {
    super(429, 'TooManyRequests', message, details);
  }
}

export class InternalError extends ApiError {
  constructor(message: string, cause?: unknown) {
    super(500, 'InternalError', `Internal error occurred: ${message}`, undefined, { cause });
  }
}

export class ServiceUnavailableError extends ApiError {
  constructor(message: string, details?: StatusDetails, options?: { cause?: unknown }) {
    super(503, 'ServiceUnavailable', message, details, options);
  }
}

/**
 * The request did not finish in time (504): the API server's own deadline ran out, or the state
 * store did not answer. As with Kubernetes, the outcome of a write that timed out is unknown.
 */
export class TimeoutError extends ApiError {
  constructor(why: string, options?: { cause?: unknown }) {
    super(504, 'Timeout', `Timeout: ${why}`, undefined, options);
  }
}

/**
 * A write Redis' primary applied, but fewer replicas than required (WHARF_REDIS_WAIT_REPLICAS)
 * confirmed within the WAIT timeout (504): it is not acknowledged, because a failover now could
 * lose it. It is not rolled back either — WAIT only reports — so, as with any 504, the write may
 * or may not be there afterwards: read before writing again.
 */
export class ReplicationTimeoutError extends TimeoutError {
  constructor(readonly required: number, readonly confirmed: number, readonly timeoutMs: number) {
    super(
      `the write was applied on the Redis primary but confirmed by ${confirmed} of the ${required} replica(s) required within ${timeoutMs}ms (WHARF_REDIS_WAIT_REPLICAS): ` +
        'it is not acknowledged and may be lost if the primary fails',
    );
  }
}

/** Kubernetes' words for its own request deadline (WithTimeoutForNonLongRunningRequests). */
export const REQUEST_DEADLINE_EXCEEDED = 'request did not complete within the allotted timeout';

/** How soon a client should try again after the state store was unreachable (client-go retries on Retry-After). */
const STORE_RETRY_AFTER_SECONDS = 1;

/**
 * What a failed Redis command means to an API client: the store was unreachable, or it did not
 * answer in time; undefined for every other error. The one place that knows ioredis' failure
 * shapes, so no storage outage ever reaches a client as a 500.
 */
export function storeFailure(err: unknown): ApiError | undefined {
  if (!(err instanceof Error)) return undefined;
  const { message, name } = err;
  const code = (err as { code?: unknown }).code;
  if (message === 'Command timed out') {
    return new TimeoutError('request did not complete within requested timeout - the state store did not answer in time', { cause: err });
  }
  const unreachable =
    name === 'MaxRetriesPerRequestError' || // the connection dropped while the command was in flight
    message.startsWith("Stream isn't writeable") || // not connected, and commands are not queued
    message === 'Connection is closed.' ||
    message.startsWith('Command aborted due to connection close') ||
    message.startsWith('LOADING') || // Redis is up but still reading its data from disk
    message.startsWith('READONLY') || // a primary demoted by a failover; the connection reconnects to the new one
    message.startsWith('MASTERDOWN') || // a replica that lost its primary (a failover under way)
    message.startsWith('All sentinels are unreachable') ||
    (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'].includes(code));
  if (!unreachable) return undefined;
  return new ServiceUnavailableError('the server is currently unable to handle the request: the state store is unreachable', { retryAfterSeconds: STORE_RETRY_AFTER_SECONDS }, { cause: err });
}

export function toStatus(err: unknown): Status {
  const e = err instanceof ApiError ? err : storeFailure(err) ?? new InternalError(err instanceof Error ? err.message : String(err), err);
  const status: Status = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: e.message,
    reason: e.reason,
    code: e.code,
  };
  if (e.details) status.details = e.details;
  return status;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.code === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.reason === 'Conflict';
}

export function isAlreadyExists(err: unknown): boolean {
  return err instanceof ApiError && err.reason === 'AlreadyExists';
}
