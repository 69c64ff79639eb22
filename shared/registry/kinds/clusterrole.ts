// rbac.authorization.k8s.io/v1 ClusterRole (Kubernetes pkg/registry/rbac/clusterrole: strategy.go and
// the policybased storage's escalation check). An aggregated ClusterRole's rules are the
// aggregation controller's (services/controller-manager/clusterrole-aggregation).
import { schemaFor } from '../../api/schemas.ts';
import { defineStrategy } from '../define.ts';
import { resourceInfo } from '../strategy.ts';
import { aggregationRuleErrors, checkRoleEscalation, pathSegmentNames, policyRuleErrors, RBAC_GROUP, ROLE_COLUMNS } from './rbac-rules.ts';

export const clusterRoleStrategy = defineStrategy({
  resource: resourceInfo({ group: RBAC_GROUP, plural: 'clusterroles', kind: 'ClusterRole', namespaced: false }),
  schema: schemaFor('ClusterRole'),
  nameErrors: pathSegmentNames,
  validate: (role) => [...policyRuleErrors(role.rules, false), ...aggregationRuleErrors(role.aggregationRule)],
  admit: (role, old, ctx) => checkRoleEscalation('clusterroles', role, old, ctx),
  columns: ROLE_COLUMNS,
});
