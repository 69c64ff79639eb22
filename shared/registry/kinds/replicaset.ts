// apps/v1 ReplicaSet (Kubernetes pkg/registry/apps/replicaset/strategy.go).
import { schemaFor } from '../../api/schemas.ts';
import { defaultTemplate } from '../../api/defaults.ts';
import { immutableErrors, selectorErrors, templateErrors } from '../../api/validation.ts';
import { AGE, NAME, containers, images } from '../../api/printers.ts';
import { formatSelector } from '../../api/selectors.ts';
import { defineStrategy, NAMES, resetStatus } from '../define.ts';
import { resourceInfo } from '../strategy.ts';
import { warnPodTemplate } from '../pod-security-admission.ts';

export const replicaSetStrategy = defineStrategy({
  resource: resourceInfo({ group: 'apps', plural: 'replicasets', kind: 'ReplicaSet', shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'] }),
  schema: schemaFor('ReplicaSet'),
  statusSubresource: true,
  generation: true,
  nameErrors: NAMES.subdomain,
  defaults({ spec }) {
    if (!spec || typeof spec !== 'object') return;
    spec.replicas ??= 1;
    defaultTemplate(spec);
  },
  // ReplicaSetStatus.replicas has no omitempty: clients (the Python one) require it.
  prepareForCreate: resetStatus(() => ({ replicas: 0 })),
  validate: ({ spec = {} }) => [...selectorErrors('spec.selector', spec.selector), ...templateErrors('spec', spec, ['Always'])],
  validateUpdate: (obj, old) => immutableErrors('spec.selector', obj.spec?.selector, old.spec?.selector),
  // PodSecurity only warns about a workload's template: its pods are enforced when they are created.
  admit: (obj, _old, ctx) => warnPodTemplate('ReplicaSet', obj, ctx),
  columns: [
    NAME,
    { name: 'Desired', type: 'integer', description: 'Number of desired pods.', cell: (r) => r.spec?.replicas ?? 0 },
    { name: 'Current', type: 'integer', description: 'Number of actual replicas.', cell: (r) => r.status?.replicas ?? 0 },
    { name: 'Ready', type: 'integer', description: 'Number of ready replicas.', cell: (r) => r.status?.readyReplicas ?? 0 },
    AGE,
    { name: 'Containers', priority: 1, description: 'Names of each container in the template.', cell: containers },
    { name: 'Images', priority: 1, description: 'Images referenced by each container in the template.', cell: images },
    { name: 'Selector', priority: 1, description: 'Label selector for pods.', cell: (r) => formatSelector(r.spec?.selector) || '<none>' },
  ],
});
