// scheduling.k8s.io/v1 PriorityClass (Kubernetes pkg/registry/scheduling/priorityclass/strategy.go).
import { schemaFor } from '../../api/schemas.ts';
import { forbidden, invalid } from '../../api/validation.ts';
import { HIGHEST_USER_DEFINABLE_PRIORITY, SYSTEM_PRIORITY_CLASSES } from '../../api/priority.ts';
import { AGE, NAME } from '../../api/printers.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo } from '../strategy.ts';

export const priorityClassStrategy = defineStrategy({
  resource: resourceInfo({ group: 'scheduling.k8s.io', plural: 'priorityclasses', kind: 'PriorityClass', namespaced: false, shortNames: ['pc'] }),
  schema: schemaFor('PriorityClass'),
  nameErrors: NAMES.subdomain,
  defaults(pc) {
    pc.preemptionPolicy ??= 'PreemptLowerPriority';
  },
  /** User classes at most 1e9 and not named system-*. */
  validate(pc) {
    const name = String(pc.metadata?.name ?? '');
    const builtin = SYSTEM_PRIORITY_CLASSES.find((c) => c.name === name);
    if (builtin ? pc.value !== builtin.value : name.startsWith('system-')) return [forbidden('metadata.name', 'priority class names with \'system-\' prefix are reserved for system use only')];
    if (!builtin && pc.value > HIGHEST_USER_DEFINABLE_PRIORITY) return [forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`)];
    return [];
  },
  /** Value and preemptionPolicy never change. */
  validateUpdate(pc, old) {
    const out = [];
    if (old.value !== pc.value) out.push(forbidden('value', 'may not be changed in an update.'));
    if ((old.preemptionPolicy ?? 'PreemptLowerPriority') !== (pc.preemptionPolicy ?? 'PreemptLowerPriority')) out.push(invalid('preemptionPolicy', pc.preemptionPolicy, 'field is immutable'));
    return out;
  },
  columns: [
    NAME,
    { name: 'Value', type: 'integer', description: 'The value of this priority class.', cell: (p) => p.value ?? 0 },
    { name: 'Global-Default', type: 'boolean', description: 'Whether this is the default priority for pods that name no class.', cell: (p) => (p.globalDefault ? 'true' : 'false') },
    AGE,
    { name: 'PreemptionPolicy', priority: 1, description: 'Whether pods of this class may preempt lower-priority pods.', cell: (p) => p.preemptionPolicy ?? 'PreemptLowerPriority' },
  ],
});
