// coordination.k8s.io/v1 Lease (Kubernetes pkg/registry/coordination/lease/strategy.go): node
// heartbeats in kube-node-lease, and leader election for any client.
import type { StatusCause } from '../../types.ts';
import { schemaFor } from '../../api/schemas.ts';
import { invalid } from '../../api/validation.ts';
import { AGE, NAME } from '../../api/printers.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo } from '../strategy.ts';

export const leaseStrategy = defineStrategy({
  resource: resourceInfo({ group: 'coordination.k8s.io', plural: 'leases', kind: 'Lease' }),
  schema: schemaFor('Lease'),
  nameErrors: NAMES.subdomain,
  /** Kubernetes' ValidateLeaseSpec. */
  validate({ spec = {} }) {
    const out: StatusCause[] = [];
    if (spec.leaseDurationSeconds !== undefined && spec.leaseDurationSeconds !== null && spec.leaseDurationSeconds <= 0) out.push(invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
    if (spec.leaseTransitions !== undefined && spec.leaseTransitions !== null && spec.leaseTransitions < 0) out.push(invalid('spec.leaseTransitions', spec.leaseTransitions, 'must be greater than or equal to 0'));
    return out;
  },
  columns: [NAME, { name: 'Holder', description: 'The holder of the lease.', cell: (l) => l.spec?.holderIdentity ?? '' }, AGE],
});
