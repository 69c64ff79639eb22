// core/v1 Namespace (Kubernetes pkg/registry/core/namespace/strategy.go, and the NamespaceLifecycle
// admission plugin's refusal to delete the cluster's own namespaces).
import { schemaFor } from '../../api/schemas.ts';
import { ForbiddenError } from '../../errors.ts';
import { AGE, NAME } from '../../api/printers.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo } from '../strategy.ts';
import { admitNamespacePodSecurity } from '../pod-security-admission.ts';

/** The namespaces every cluster has, which may never be deleted. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Holds a namespace until the namespace controller has emptied it. */
export const NAMESPACE_FINALIZER = 'kubernetes';

export const namespaceStrategy = defineStrategy({
  resource: resourceInfo({ plural: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'], subresources: ['status', 'finalize'] }),
  schema: schemaFor('Namespace'),
  statusSubresource: true,
  nameErrors: NAMES.label,
  defaults(ns) {
    // SetDefaults_Namespace: the name as a label, so selectors can pick namespaces by name.
    if (ns.metadata.name) ns.metadata.labels = { ...ns.metadata.labels, 'kubernetes.io/metadata.name': ns.metadata.name };
  },
  prepareForCreate(ns) {
    ns.status = { phase: 'Active' };
    ns.spec = { ...ns.spec, finalizers: [...new Set([...(ns.spec?.finalizers ?? []), NAMESPACE_FINALIZER])] };
  },
  // PodSecurity validates the level labels and warns about pods a stricter level would refuse.
  admit: (ns, old, ctx) => admitNamespacePodSecurity(ns, old, ctx),
  forbidDelete(ns) {
    if (!SYSTEM_NAMESPACES.includes(ns.metadata.name!)) return undefined;
    return new ForbiddenError(`namespaces "${ns.metadata.name}" is forbidden: this namespace may not be deleted`, { name: ns.metadata.name, kind: 'namespaces' });
  },
  markDeleting(ns) {
    ns.status = { ...ns.status, phase: 'Terminating' };
  },
  holdsDeletion: (ns) => (ns.spec?.finalizers ?? []).length > 0,
  columns: [NAME, { name: 'Status', description: 'The status of the namespace', cell: (n) => n.status?.phase ?? 'Active' }, AGE],
});
