// policy/v1 PodDisruptionBudget (Kubernetes pkg/registry/policy/poddisruptionbudget/strategy.go).
import type { StatusCause } from '../../types.ts';
import { schemaFor } from '../../api/schemas.ts';
import { invalid, labelErrors, required } from '../../api/validation.ts';
import { AGE, NAME } from '../../api/printers.ts';
import { defineStrategy, NAMES, resetStatus } from '../define.ts';
import { resourceInfo } from '../strategy.ts';

/** One of minAvailable or maxUnavailable, each a non-negative int or a percent up to 100%. */
function budgetErrors(spec: any): StatusCause[] {
  const out: StatusCause[] = [];
  const has = (v: unknown) => v !== undefined && v !== null;
  if (has(spec.minAvailable) && has(spec.maxUnavailable)) out.push(invalid('spec.minAvailable', spec.minAvailable, 'minAvailable and maxUnavailable cannot be both set'));
  if (!has(spec.minAvailable) && !has(spec.maxUnavailable)) out.push(required('spec.minAvailable', 'one of minAvailable or maxUnavailable must be set'));
  for (const key of ['minAvailable', 'maxUnavailable']) {
    const v = spec[key];
    if (typeof v === 'number' && v < 0) out.push(invalid(`spec.${key}`, v, 'must be greater than or equal to 0'));
    if (typeof v === 'string') {
      const m = /^([0-9]+)%$/.exec(v);
      if (!m) out.push(invalid(`spec.${key}`, v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"));
      else if (Number(m[1]) > 100) out.push(invalid(`spec.${key}`, v, 'must not be greater than 100%'));
    }
  }
  if (spec.selector) out.push(...labelErrors('spec.selector.matchLabels', spec.selector.matchLabels));
  return out;
}

export const podDisruptionBudgetStrategy = defineStrategy({
  resource: resourceInfo({ group: 'policy', plural: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', shortNames: ['pdb'], subresources: ['status'] }),
  schema: schemaFor('PodDisruptionBudget'),
  statusSubresource: true,
  generation: true,
  nameErrors: NAMES.subdomain,
  // The four counts of PodDisruptionBudgetStatus have no omitempty.
  prepareForCreate: resetStatus(() => ({ disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 })),
  validate: (pdb) => budgetErrors(pdb.spec ?? {}),
  columns: [
    NAME,
    { name: 'Min Available', description: 'The minimum number of pods that must be available.', cell: (p) => (p.spec?.minAvailable != null ? String(p.spec.minAvailable) : 'N/A') },
    { name: 'Max Unavailable', description: 'The maximum number of pods that may be unavailable.', cell: (p) => (p.spec?.maxUnavailable != null ? String(p.spec.maxUnavailable) : 'N/A') },
    { name: 'Allowed Disruptions', type: 'integer', description: 'Calculated number of pods that may be disrupted at this time.', cell: (p) => p.status?.disruptionsAllowed ?? 0 },
    AGE,
  ],
});
