// core/v1 ServiceAccount (Kubernetes pkg/registry/core/serviceaccount/strategy.go): an identity for
// the processes of a pod. Its tokens come from the `token` subresource (TokenRequest), signed by
// the API server; the ServiceAccount admission of pods (../../auth/service-account-admission.ts)
// names and mounts it.
import { schemaFor } from '../../api/schemas.ts';
import { AGE, NAME } from '../../api/printers.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo } from '../strategy.ts';

export const serviceAccountStrategy = defineStrategy({
  resource: resourceInfo({ plural: 'serviceaccounts', kind: 'ServiceAccount', shortNames: ['sa'], subresources: ['token'] }),
  schema: schemaFor('ServiceAccount'),
  // ValidateServiceAccountName: a DNS subdomain.
  nameErrors: NAMES.subdomain,
  columns: [
    NAME,
    { name: 'Secrets', description: 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.', cell: (sa) => (sa.secrets ?? []).length },
    AGE,
  ],
});
