// rbac.authorization.k8s.io/v1 RoleBinding (Kubernetes pkg/registry/rbac/rolebinding: strategy.go,
// the v1 defaults, and the policybased storage's bind check).
import { schemaFor } from '../../api/schemas.ts';
import { defineStrategy } from '../define.ts';
import { resourceInfo } from '../strategy.ts';
import { BINDING_COLUMNS, bindingDefaults, bindingErrors, checkBindingEscalation, pathSegmentNames, RBAC_GROUP, roleRefUpdateErrors } from './rbac-rules.ts';

export const roleBindingStrategy = defineStrategy({
  resource: resourceInfo({ group: RBAC_GROUP, plural: 'rolebindings', kind: 'RoleBinding' }),
  schema: schemaFor('RoleBinding'),
  nameErrors: pathSegmentNames,
  defaults: bindingDefaults,
  validate: (binding) => bindingErrors(binding, true),
  validateUpdate: roleRefUpdateErrors,
  admit: (binding, old, ctx) => checkBindingEscalation('rolebindings', binding, old, ctx),
  columns: BINDING_COLUMNS,
});
