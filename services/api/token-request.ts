// The TokenRequest API, `POST /api/v1/namespaces/NS/serviceaccounts/NAME/token` (Kubernetes'
// pkg/registry/core/serviceaccount/storage/token.go): a short-lived token of the ServiceAccount,
// for the API's own audience or the ones asked for, bound to a Pod, Secret or Node when asked.
// `kubectl create token` sends it (in protobuf); node agents get their pods' tokens through
// the same code (token-queue.ts).
import type { Request, Response } from 'express';
import type { KubeObject, StatusCause } from '../../shared/types.ts';
import type { Store } from '../../shared/store/store.ts';
import { BadRequestError, ConflictError, InvalidError } from '../../shared/errors.ts';
import { schemaFor } from '../../shared/api/schemas.ts';
import { invalid, structuralErrors } from '../../shared/api/validation.ts';
import {
  DEFAULT_EXPIRATION_SECONDS,
  MAX_EXPIRATION_SECONDS,
  MIN_EXPIRATION_SECONDS,
  type ServiceAccountTokens,
  type TokenSubject,
} from '../../shared/auth/service-account-tokens.ts';
import { decodeBody, fieldValidationOf, warningHeaderValues } from './request.ts';

const GROUP = 'authentication.k8s.io';
const API_VERSION = `${GROUP}/v1`;
const KIND = 'TokenRequest';

export interface TokenRequestSpec {
  audiences: string[];
  expirationSeconds: number;
  boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string } | null;
}

/** A TokenRequest as the server answers it. */
export interface TokenRequest {
  kind: typeof KIND;
  apiVersion: typeof API_VERSION;
  metadata: { name: string; namespace: string; creationTimestamp: string };
  spec: TokenRequestSpec;
  status: { token: string; expirationTimestamp: string };
}

/**
 * A decoded body as a TokenRequest: its type, structure, and the name and namespace it may carry
 * (they must be the path's). Pure. Returns the spec with the v1 defaults and the warnings of
 * fields dropped under fieldValidation=Warn.
 */
export function readTokenRequest(body: unknown, namespace: string, name: string, fieldValidation: 'Ignore' | 'Warn' | 'Strict'): { spec: { audiences: string[]; expirationSeconds: number; boundObjectRef?: TokenRequestSpec['boundObjectRef'] }; warnings: string[] } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BadRequestError(`Object '${KIND}' is not a JSON or YAML object`);
  const obj = body as KubeObject;
  if ((obj.apiVersion ?? API_VERSION) !== API_VERSION || (obj.kind ?? KIND) !== KIND) {
    throw new BadRequestError(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${API_VERSION}) or the kind (${obj.kind}) is not ${KIND}`);
  }
  const { causes, unknownFields } = structuralErrors(schemaFor(`${API_VERSION}/${KIND}`)!, obj);
  if (unknownFields.length && fieldValidation === 'Strict') {
    throw new BadRequestError(`strict decoding error: ${unknownFields.map((f) => `unknown field "${f}"`).join(', ')}`);
  }
  if (causes.length) throw new InvalidError(KIND, name, causes, GROUP);
  const meta = obj.metadata ?? {};
  if (meta.name && meta.name !== name) throw new InvalidError(KIND, name, [invalid('metadata.name', meta.name, 'must match the service account name if specified')], GROUP);
  if (meta.namespace && meta.namespace !== namespace) throw new InvalidError(KIND, name, [invalid('metadata.namespace', meta.namespace, 'must match the service account namespace if specified')], GROUP);
  const spec = obj.spec ?? {};
  return {
    spec: {
      audiences: spec.audiences ?? [],
      // SetDefaults_TokenRequestSpec.
      expirationSeconds: spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS,
      boundObjectRef: spec.boundObjectRef ?? undefined,
    },
    warnings: fieldValidation === 'Warn' ? unknownFields.map((f) => `unknown field "${f}"`) : [],
  };
}

/** ValidateTokenRequest. */
export function tokenRequestErrors(expirationSeconds: number): StatusCause[] {
  const out: StatusCause[] = [];
  if (expirationSeconds < MIN_EXPIRATION_SECONDS) out.push(invalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes'));
  if (expirationSeconds > MAX_EXPIRATION_SECONDS) out.push(invalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration larger than 2^32 seconds'));
  return out;
}

/** Go's GroupVersionKind.String() of a reference, for the refusal of an unsupported kind. */
function gvkString(apiVersion: string | undefined, kind: string | undefined): string {
  const [group, version] = (apiVersion ?? '').includes('/') ? (apiVersion as string).split('/') : ['', apiVersion ?? ''];
  return `${group}/${version}, Kind=${kind ?? ''}`;
}

function groupOf(apiVersion: string | undefined): string {
  return apiVersion?.includes('/') ? apiVersion.split('/')[0] : '';
}

/**
 * The subject of a token bound to `ref` (a Pod, Secret or Node that must exist, with the uid the
 * reference names, if any), as Kubernetes' TokenREST resolves it.
 */
export async function boundSubject(store: Store, namespace: string, sa: KubeObject, ref: NonNullable<TokenRequestSpec['boundObjectRef']>): Promise<TokenSubject> {
  const subject: TokenSubject = { namespace, serviceAccount: { name: sa.metadata.name!, uid: sa.metadata.uid! } };
  const kind = groupOf(ref.apiVersion) === '' ? ref.kind : undefined;
  let uid: string | undefined;
  switch (kind) {
    case 'Pod': {
      const pod = await store.mustGet('pods', namespace, ref.name ?? '');
      if (sa.metadata.name !== (pod.spec?.serviceAccountName ?? 'default')) {
        throw new BadRequestError(`cannot bind token for serviceaccount "${sa.metadata.name}" to pod running with different serviceaccount name.`);
      }
      uid = pod.metadata.uid;
      subject.pod = { name: pod.metadata.name!, uid: uid! };
      if (pod.spec?.nodeName) {
        const node = await store.get('nodes', undefined, pod.spec.nodeName);
        subject.node = node ? { name: node.metadata.name!, uid: node.metadata.uid! } : { name: pod.spec.nodeName };
      }
      break;
    }
    case 'Secret': {
      const secret = await store.mustGet('secrets', namespace, ref.name ?? '');
      uid = secret.metadata.uid;
      subject.secret = { name: secret.metadata.name!, uid: uid! };
      break;
    }
    case 'Node': {
      const node = await store.mustGet('nodes', undefined, ref.name ?? '');
      uid = node.metadata.uid;
      subject.node = { name: node.metadata.name!, uid: uid! };
      break;
    }
    default:
      throw new BadRequestError(`cannot bind token to object of type ${gvkString(ref.apiVersion, ref.kind)}`);
  }
  if (ref.uid && ref.uid !== uid) {
    throw new ConflictError(kind!, ref.name ?? '', '', `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
  }
  return subject;
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Issues a token of namespace/name for `spec` (defaulted): the ServiceAccount must exist (404),
 * the lifetime be within bounds (422) — shortened to the cluster's maximum with a warning — and
 * the bound object exist. Shared by the HTTP handler and the node agents' token queue.
 */
export async function issueToken(store: Store, tokens: ServiceAccountTokens, namespace: string, name: string, spec: TokenRequestSpec, warnings: string[] = []): Promise<TokenRequest> {
  const sa = await store.mustGet('serviceaccounts', namespace, name);
  const audiences = spec.audiences.length ? spec.audiences : tokens.settings.apiAudiences;
  const causes = tokenRequestErrors(spec.expirationSeconds);
  if (causes.length) throw new InvalidError(KIND, '', causes, GROUP);
  const subject = spec.boundObjectRef ? await boundSubject(store, namespace, sa, spec.boundObjectRef) : { namespace, serviceAccount: { name: sa.metadata.name!, uid: sa.metadata.uid! } };
  let expirationSeconds = spec.expirationSeconds;
  const max = tokens.settings.maxExpirationSeconds;
  if (max > 0 && expirationSeconds > max) {
    warnings.push(`requested expiration of ${expirationSeconds} seconds shortened to ${max} seconds`);
    expirationSeconds = max;
  }
  const now = Date.now();
  const { token } = await tokens.issue(subject, audiences, expirationSeconds, now);
  return {
    kind: KIND,
    apiVersion: API_VERSION,
    metadata: { name, namespace, creationTimestamp: rfc3339(now) },
    spec: { audiences, expirationSeconds, boundObjectRef: spec.boundObjectRef ?? null },
    status: { token, expirationTimestamp: rfc3339(now + expirationSeconds * 1000) },
  };
}

/** The HTTP face: decode, issue, answer 201 (with a Warning header when the lifetime was shortened). */
export async function createToken(store: Store, tokens: ServiceAccountTokens, req: Request, res: Response, namespace: string, name: string): Promise<void> {
  const { spec, warnings } = readTokenRequest(decodeBody(req.body as Buffer, req.headers['content-type']), namespace, name, fieldValidationOf(req));
  const answer = await issueToken(store, tokens, namespace, name, spec, warnings);
  const warningHeaders = warningHeaderValues(warnings);
  if (warningHeaders.length) res.setHeader('Warning', warningHeaders);
  res.status(201).json(answer);
}
