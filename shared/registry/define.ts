// Kubernetes' generic behaviour for what a kind's strategy leaves out, so each kind file says only
// what is particular to it.
import type { KubeObject } from '../types.ts';
import { AGE, NAME } from '../api/printers.ts';
import { dnsLabelErrors, dnsSubdomainErrors, dns1035LabelErrors, nameValidator } from '../api/validation.ts';
import type { Strategy, StrategySpec } from './strategy.ts';

/** The name rules kinds choose from (apimachinery's NameIsDNSSubdomain, NameIsDNSLabel, NameIsDNS1035Label). */
export const NAMES = {
  subdomain: nameValidator(dnsSubdomainErrors),
  label: nameValidator(dnsLabelErrors),
  dns1035: nameValidator(dns1035LabelErrors),
};

export function defineStrategy(spec: StrategySpec): Strategy {
  return {
    statusSubresource: false,
    generation: false,
    defaults: () => {},
    prepareForCreate: () => {},
    prepareForUpdate: () => {},
    validate: () => [],
    validateUpdate: () => [],
    claims: () => [],
    columns: [NAME, AGE],
    ...spec,
  };
}

/** As the status subresource's PrepareForCreate: the status a new object starts with, whatever the client sent. */
export function resetStatus(status: () => Record<string, unknown>): (obj: KubeObject) => void {
  return (obj) => {
    obj.status = status();
  };
}
