// core/v1 Secret (Kubernetes pkg/registry/core/secret/strategy.go). stringData is write-only: it
// is merged into data (base64) and never stored, as Kubernetes' conversion of v1 Secrets does.
import type { KubeObject, StatusCause } from '../../types.ts';
import { schemaFor } from '../../api/schemas.ts';
import { immutableErrors, required } from '../../api/validation.ts';
import { AGE, NAME } from '../../api/printers.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo } from '../strategy.ts';
import { base64Errors, configKeyErrors, dataBytes, immutableDataErrors, tooLarge } from './config-data.ts';

function mergeStringData(secret: KubeObject): void {
  const stringData = secret.stringData;
  if (stringData === undefined) return;
  delete secret.stringData;
  if (!stringData || typeof stringData !== 'object') return;
  secret.data = { ...secret.data };
  for (const [k, v] of Object.entries(stringData)) if (typeof v === 'string') secret.data[k] = Buffer.from(v, 'utf8').toString('base64');
}

/** The keys each built-in Secret type must carry (Kubernetes' ValidateSecret). */
const REQUIRED_KEYS: Record<string, string[][]> = {
  'kubernetes.io/dockercfg': [['.dockercfg']],
  'kubernetes.io/dockerconfigjson': [['.dockerconfigjson']],
  'kubernetes.io/ssh-auth': [['ssh-privatekey']],
  'kubernetes.io/tls': [['tls.crt'], ['tls.key']],
  // either one of these
  'kubernetes.io/basic-auth': [['username', 'password']],
};

function typeErrors(secret: KubeObject): StatusCause[] {
  const data = secret.data ?? {};
  const out: StatusCause[] = [];
  for (const anyOf of REQUIRED_KEYS[secret.type] ?? []) {
    if (!anyOf.some((k) => k in data)) out.push(required(`data[${anyOf[0]}]`));
  }
  if (secret.type === 'kubernetes.io/service-account-token' && !secret.metadata.annotations?.['kubernetes.io/service-account.name']) {
    out.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
  }
  return out;
}

export const secretStrategy = defineStrategy({
  resource: resourceInfo({ plural: 'secrets', kind: 'Secret' }),
  schema: schemaFor('Secret'),
  nameErrors: NAMES.subdomain,
  defaults(secret) {
    secret.type ??= 'Opaque';
  },
  prepareForCreate: mergeStringData,
  prepareForUpdate: mergeStringData,
  validate(secret) {
    const out: StatusCause[] = [];
    for (const [key, value] of Object.entries(secret.data ?? {})) {
      out.push(...configKeyErrors(`data[${key}]`, key));
      out.push(...base64Errors(`data[${key}]`, value, '<secret contents redacted>'));
    }
    out.push(...tooLarge(dataBytes(secret.data, true)));
    out.push(...typeErrors(secret));
    return out;
  },
  validateUpdate: (secret, old) => [...immutableErrors('type', secret.type, old.type), ...immutableDataErrors(secret, old, ['data'])],
  columns: [
    NAME,
    { name: 'Type', description: 'The type of the secret', cell: (s) => s.type ?? 'Opaque' },
    { name: 'Data', type: 'integer', description: 'Number of data items.', cell: (s) => Object.keys(s.data ?? {}).length },
    AGE,
  ],
});
