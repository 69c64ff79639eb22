// rbac.authorization.k8s.io/v1 Role (Kubernetes pkg/registry/rbac/role: strategy.go and the
// policybased storage's escalation check).
import { schemaFor } from '../../api/schemas.ts';
import { defineStrategy } from '../define.ts';
import { resourceInfo } from '../strategy.ts';
import { checkRoleEscalation, pathSegmentNames, policyRuleErrors, RBAC_GROUP, ROLE_COLUMNS } from './rbac-rules.ts';

export const roleStrategy = defineStrategy({
  resource: resourceInfo({ group: RBAC_GROUP, plural: 'roles', kind: 'Role' }),
  schema: schemaFor('Role'),
  nameErrors: pathSegmentNames,
  validate: (role) => policyRuleErrors(role.rules, true),
  admit: (role, old, ctx) => checkRoleEscalation('roles', role, old, ctx),
  columns: ROLE_COLUMNS,
});
