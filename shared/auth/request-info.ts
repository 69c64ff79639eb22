// What a request asks to do, read from its method, path and query as Kubernetes' RequestInfoFactory
// reads them (k8s.io/apiserver pkg/endpoints/request/requestinfo.go), and the 403 Kubernetes answers
// when it may not (pkg/endpoints/handlers/responsewriters/errors.go). Pure: authorization,
// impersonation and the access reviews share it.
import type { Attributes } from './rbac.ts';
import type { UserInfo } from './user.ts';

export interface RequestLine {
  method: string;
  /** The URL path, still percent-encoded (as express's req.path). */
  path: string;
  query: Record<string, unknown>;
}

/** Path prefixes that hold resources; /api holds the core group, which has no group segment. */
const API_PREFIXES = new Set(['api', 'apis']);
/** Verbs a path may carry before the resource (/api/v1/watch/pods). */
const SPECIAL_VERBS = new Set(['proxy', 'watch']);
/** The pod subresources that open a stream into the pod. */
const STREAMING_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);
/** Subresources of a namespace itself: /api/v1/namespaces/x/status is the Namespace x's status. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function firstValue(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? (v.length ? String(v[0]) : undefined) : String(v);
}

/** Kubernetes' boolean parameters: anything but 0 and false (any case) is true. */
function queryTrue(query: Record<string, unknown>, name: string): boolean {
  const v = firstValue(query, name);
  return v !== undefined && v !== '0' && v.toLowerCase() !== 'false';
}

/** path.IsValidPathSegmentName: not . or .., no / or %. */
export function isValidPathSegmentName(name: string): boolean {
  return name !== '.' && name !== '..' && !name.includes('/') && !name.includes('%');
}

/** The name a field selector pins the list to (`metadata.name=x`, `metadata.name==x` among its terms). */
function selectedName(fieldSelector: string | undefined): string | undefined {
  if (!fieldSelector) return undefined;
  for (const term of fieldSelector.split(',')) {
    const m = /^\s*metadata\.name\s*==?\s*(.*?)\s*$/.exec(term);
    if (m && !term.includes('!=')) return m[1];
  }
  return undefined;
}

/**
 * The attributes of a request (without its user). A path under /api or /apis that is long enough
 * is a resource request whatever it names, served or not, so that an unknown resource is refused
 * (403) before it is found missing (404), as in Kubernetes; any other path is a non-resource
 * request whose verb is the lower-case method.
 */
export function requestAttributes(req: RequestLine): Omit<Attributes, 'user'> {
  const decodedPath = req.path.split('/').map(decode).join('/');
  const nonResource = { verb: req.method.toLowerCase(), resourceRequest: false, path: decodedPath };
  let parts = req.path.split('/').filter(Boolean).map(decode);
  if (parts.length < 3 || !API_PREFIXES.has(parts[0])) return nonResource;
  const prefix = parts[0];
  parts = parts.slice(1);
  let apiGroup = '';
  if (prefix === 'apis') {
    if (parts.length < 3) return nonResource;
    apiGroup = parts[0];
    parts = parts.slice(1);
  }
  const apiVersion = parts[0];
  parts = parts.slice(1);

  let verb: string;
  let verbFromMethod = false;
  if (SPECIAL_VERBS.has(parts[0])) {
    // `/api/v1/watch` alone names nothing: Kubernetes answers it as an error before authorizing.
    if (parts.length < 2) return { ...nonResource };
    verb = parts[0];
    parts = parts.slice(1);
  } else {
    verbFromMethod = true;
    verb = ({ POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[req.method.toUpperCase()] ?? '';
  }

  let namespace = '';
  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      namespace = parts[1];
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2])) parts = parts.slice(2);
    }
  }
  const resource = parts[0] ?? '';
  let name = parts.length >= 2 ? parts[1] : '';
  const subresource = parts.length >= 3 && verb !== 'proxy' ? parts[2] : '';

  // A GET of a collection lists or watches it; a field selector on the name narrows it to that object.
  if (verbFromMethod && !name && verb === 'get') {
    verb = queryTrue(req.query, 'watch') ? 'watch' : 'list';
    const pinned = selectedName(firstValue(req.query, 'fieldSelector'));
    if (pinned && isValidPathSegmentName(pinned)) name = pinned;
  }
  if (verbFromMethod && !name && verb === 'delete') verb = 'deletecollection';
  // A WebSocket client opens exec, attach and port-forward with a GET, a SPDY client with a POST:
  // either runs something in the pod, so both need `create` (Kubernetes'
  // AuthorizePodWebsocketUpgradeCreatePermission; `get` alone lets no one into a pod).
  if (verb === 'get' && resource === 'pods' && STREAMING_SUBRESOURCES.has(subresource)) verb = 'create';

  return {
    verb,
    resourceRequest: true,
    apiGroup,
    apiVersion,
    namespace,
    resource,
    subresource,
    name,
  };
}

/** Kubernetes' forbiddenMessage: who cannot do what, where. */
export function forbiddenMessage(attrs: Omit<Attributes, 'user'>, user: UserInfo): string {
  const username = JSON.stringify(user.username);
  if (!attrs.resourceRequest) return `User ${username} cannot ${attrs.verb} path ${JSON.stringify(attrs.path ?? '')}`;
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource ?? '';
  const where = attrs.namespace ? `in the namespace ${JSON.stringify(attrs.namespace)}` : 'at the cluster scope';
  return `User ${username} cannot ${attrs.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(attrs.apiGroup ?? '')} ${where}`;
}

/**
 * The whole 403 as Kubernetes' NewForbidden words it: "pods is forbidden: ...", with the object's
 * name when there is one, and details naming group, resource (as kind) and name, empty ones left out.
 */
export function forbiddenStatus(attrs: Omit<Attributes, 'user'>, user: UserInfo, reason = ''): { message: string; details: { name?: string; group?: string; kind?: string } } {
  const why = reason ? `${forbiddenMessage(attrs, user)}: ${reason}` : forbiddenMessage(attrs, user);
  const group = attrs.resourceRequest ? attrs.apiGroup ?? '' : '';
  const resource = attrs.resourceRequest ? attrs.resource ?? '' : '';
  const name = attrs.resourceRequest ? attrs.name ?? '' : '';
  const qualified = group ? `${resource}.${group}` : resource;
  let message: string;
  if (!resource && !group) message = `forbidden: ${why}`;
  else if (!name) message = `${qualified} is forbidden: ${why}`;
  else message = `${qualified} ${JSON.stringify(name)} is forbidden: ${why}`;
  const details: { name?: string; group?: string; kind?: string } = {};
  if (name) details.name = name;
  if (group) details.group = group;
  if (resource) details.kind = resource;
  return { message, details };
}
