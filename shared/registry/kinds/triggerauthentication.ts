// keda.sh/v1alpha1 TriggerAuthentication (KEDA's apis/keda/v1alpha1/triggerauthentication_types.go):
// where a ScaledObject's trigger finds its credentials. Wharf reads secretTargetRef,
// configMapTargetRef and env; the cloud providers' fields (podIdentity, hashiCorpVault,
// azureKeyVault, ...) are kept as written, and a trigger that needs them fails with a clear reason.
import { objectMeta } from '../../api/schemas.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { NAME } from '../../api/printers.ts';
import { resourceInfo } from '../strategy.ts';

type Schema = Record<string, any>;
const str: Schema = { type: 'string' };
const open: Schema = { type: 'object' };
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', properties, additionalProperties: false, ...(required.length ? { required } : {}) });
const doc = (description: string, schema: Schema): Schema => ({ ...schema, description });
const targetRef = { type: 'array', items: obj({ parameter: str, name: str, key: str }, ['parameter', 'name', 'key']) };

const SCHEMA: Schema = doc('Credentials for the triggers of ScaledObjects (KEDA).', obj({
  apiVersion: str,
  kind: str,
  metadata: objectMeta,
  spec: doc('Where each trigger parameter comes from.', obj({
    secretTargetRef: doc('Parameters read from keys of Secrets in the namespace.', targetRef),
    configMapTargetRef: doc('Parameters read from keys of ConfigMaps in the namespace.', targetRef),
    env: doc('Parameters read from environment variables of the scale target\'s container.', { type: 'array', items: obj({ parameter: str, name: str, containerName: str }, ['parameter', 'name']) }),
    podIdentity: open, filePath: str, hashiCorpVault: open, azureKeyVault: open, gcpSecretManager: open, awsSecretManager: open,
    boundServiceAccountToken: { type: 'array', items: open }, oauth2: open,
  })),
  status: { type: 'object', properties: { scaledobjects: str, scaledjobs: str } },
}, ['spec']));

const names = (refs: unknown): string => (Array.isArray(refs) ? refs.map((r: any) => r?.name).filter(Boolean).join(' ') : '');

export const triggerAuthenticationStrategy = defineStrategy({
  resource: resourceInfo({ group: 'keda.sh', version: 'v1alpha1', plural: 'triggerauthentications', kind: 'TriggerAuthentication', shortNames: ['ta', 'triggerauth'], subresources: ['status'] }),
  schema: SCHEMA,
  statusSubresource: true,
  generation: true,
  nameErrors: NAMES.subdomain,
  prepareForCreate: (ta) => {
    ta.status = {};
  },
  // KEDA's printer columns: a CRD that names its columns shows no Age unless it names one too.
  columns: [
    NAME,
    { name: 'PodIdentity', cell: (ta) => ta.spec?.podIdentity?.provider ?? '' },
    { name: 'Secret', cell: (ta) => names(ta.spec?.secretTargetRef) },
    { name: 'Env', cell: (ta) => names(ta.spec?.env) },
    { name: 'VaultAddress', cell: (ta) => ta.spec?.hashiCorpVault?.address ?? '' },
    { name: 'ScaledObjects', priority: 1, cell: (ta) => ta.status?.scaledobjects ?? '' },
    { name: 'ScaledJobs', priority: 1, cell: (ta) => ta.status?.scaledjobs ?? '' },
  ],
});
