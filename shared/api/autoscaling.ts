// The HorizontalPodAutoscaler's API facts shared by its kind (defaults, validation, columns) and its
// controller: Kubernetes' behavior defaults (pkg/apis/autoscaling/v2/defaults.go), the TARGETS
// column (pkg/printers/internalversion/printers.go formatHPAMetrics).
import { formatQuantity, milliValueOf, parseExact, tryParseExact } from './exact-quantity.ts';

export interface ScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: 'Max' | 'Min' | 'Disabled';
  policies?: ScalingPolicy[];
}

export interface Behavior {
  scaleUp?: ScalingRules;
  scaleDown?: ScalingRules;
}

/** Kubernetes' DefaultCPUUtilization: the target of an HPA that names no metric. */
export const DEFAULT_CPU_UTILIZATION = 80;
/** validation.MaxStabilizationWindowSeconds and MaxPeriodSeconds. */
export const MAX_STABILIZATION_WINDOW_SECONDS = 3600;
export const MAX_PERIOD_SECONDS = 1800;

/** Scale-up: at once (no stabilization), by at most 4 pods or 100% every 15 s, whichever is more. */
export function defaultScaleUpRules(): Required<ScalingRules> {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  };
}

/**
 * Scale-down: up to 100% every 15 s. Its stabilization window is left unset, as Kubernetes leaves
 * it: the controller fills it with its own downscale stabilization (300 s unless configured).
 */
export function defaultScaleDownRules(): ScalingRules {
  return { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };
}

/** GenerateHPAScaleUpRules / GenerateHPAScaleDownRules: the rules with each unset part defaulted. */
export function withDefaultRules(rules: ScalingRules | undefined, defaults: ScalingRules): ScalingRules {
  if (!rules || typeof rules !== 'object') return defaults;
  if (rules.stabilizationWindowSeconds == null && defaults.stabilizationWindowSeconds !== undefined) rules.stabilizationWindowSeconds = defaults.stabilizationWindowSeconds;
  rules.selectPolicy ??= defaults.selectPolicy;
  rules.policies ??= defaults.policies;
  return rules;
}

/** A quantity as Quantity.String() prints it; the text itself when it is no quantity. */
export function quantityString(q: unknown): string {
  const parsed = tryParseExact(q);
  return parsed ? formatQuantity(parsed) : String(q);
}

/** Quantity.MilliValue() of a quantity (rounded up), as a number. */
export function milliValue(q: unknown): number {
  return Number(milliValueOf(parseExact(q as string)));
}

/** The TARGETS column of `kubectl get hpa`: "cpu: 62%/50%", two at most, then "+ N more...". */
export function formatHpaMetrics(specs: any[] | undefined, statuses: any[] | undefined): string {
  if (!specs?.length) return '<none>';
  const list: string[] = [];
  const st = statuses ?? [];
  specs.forEach((spec, i) => {
    const status = st[i];
    switch (spec?.type) {
      case 'External':
      case 'Object': {
        const key = spec.type === 'External' ? 'external' : 'object';
        const target = spec[key]?.target ?? {};
        const current = status?.[key]?.current;
        if (target.averageValue != null) {
          list.push(`${current?.averageValue != null ? quantityString(current.averageValue) : '<unknown>'}/${quantityString(target.averageValue)} (avg)`);
        } else {
          list.push(`${status?.[key] ? quantityString(current?.value ?? '0') : '<unknown>'}/${quantityString(target.value ?? '0')}`);
        }
        break;
      }
      case 'Pods':
        list.push(`${status?.pods ? quantityString(status.pods.current?.averageValue ?? '0') : '<unknown>'}/${quantityString(spec.pods?.target?.averageValue ?? '0')}`);
        break;
      case 'Resource':
      case 'ContainerResource': {
        const key = spec.type === 'Resource' ? 'resource' : 'containerResource';
        const source = spec[key] ?? {};
        const target = source.target ?? {};
        const current = status?.[key]?.current;
        if (target.averageValue != null) {
          list.push(`${source.name}: ${status?.[key] ? quantityString(current?.averageValue ?? '0') : '<unknown>'}/${quantityString(target.averageValue)}`);
        } else {
          const now = current?.averageUtilization != null ? `${current.averageUtilization}%` : '<unknown>';
          const want = target.averageUtilization != null ? `${target.averageUtilization}%` : '<auto>';
          list.push(`${source.name}: ${now}/${want}`);
        }
        break;
      }
      default:
        list.push('<unknown type>');
    }
  });
  if (list.length > 2) return `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...`;
  return list.join(', ');
}
