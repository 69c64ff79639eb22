// rbac.authorization.k8s.io/v1 ClusterRoleBinding (Kubernetes pkg/registry/rbac/clusterrolebinding:
// strategy.go, the v1 defaults, and the policybased storage's bind check).
import { schemaFor } from '../../api/schemas.ts';
import { defineStrategy } from '../define.ts';
import { resourceInfo } from '../strategy.ts';
import { BINDING_COLUMNS, bindingDefaults, bindingErrors, checkBindingEscalation, pathSegmentNames, RBAC_GROUP, roleRefUpdateErrors } from './rbac-rules.ts';

export const clusterRoleBindingStrategy = defineStrategy({
  resource: resourceInfo({ group: RBAC_GROUP, plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false }),
  schema: schemaFor('ClusterRoleBinding'),
  nameErrors: pathSegmentNames,
  defaults: bindingDefaults,
  validate: (binding) => bindingErrors(binding, false),
  validateUpdate: roleRefUpdateErrors,
  admit: (binding, old, ctx) => checkBindingEscalation('clusterrolebindings', binding, old, ctx),
  columns: BINDING_COLUMNS,
});
