// Validation of API objects as Kubernetes v1.32 does it: unknown fields are pruned (and reported,
// for fieldValidation=Strict), the schema's types, required fields and enumerations are checked
// by ajv, then the semantic rules Kubernetes' validation functions apply — names, labels, pod
// specs, selectors, strategies, ports, immutable fields — each cause naming its field the way
// kubectl prints it (`spec.template.spec.containers[0].image`).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { BlockList, isIP } from 'node:net';
import { CronExpressionParser } from 'cron-parser';
import type { KubeObject, StatusCause } from '../types.ts';
import { HIGHEST_USER_DEFINABLE_PRIORITY, SYSTEM_PRIORITY_CLASSES } from './priority.ts';
import { schemaFor } from './schemas.ts';
import { isValidQuantity, parseQuantity } from './quantity.ts';
import { selectorMatches } from './selectors.ts';

export interface ValidationResult {
  causes: StatusCause[];
  unknownFields: string[];
}

const ajv = new Ajv({ allErrors: true, strict: false });
const compiled = new Map<string, ValidateFunction>();

function validatorFor(kind: string): ValidateFunction | undefined {
  if (!compiled.has(kind)) {
    const schema = schemaFor(kind);
    if (!schema) return undefined;
    compiled.set(kind, ajv.compile(schema));
  }
  return compiled.get(kind);
}

// ---- field paths and causes ------------------------------------------------------------

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function pointerToPath(pointer: string): string {
  let path = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    path = /^\d+$/.test(part) ? `${path}[${part}]` : join(path, part);
  }
  return path;
}

const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? 'null');

const invalid = (field: string, value: unknown, why: string): StatusCause => ({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${show(value)}: ${why}` });
const required = (field: string, why = ''): StatusCause => ({ reason: 'FieldValueRequired', field, message: why ? `Required value: ${why}` : 'Required value' });
const unsupported = (field: string, value: unknown, allowed: string[]): StatusCause => ({
  reason: 'FieldValueNotSupported',
  field,
  message: `Unsupported value: ${show(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`,
});
const duplicate = (field: string, value: unknown): StatusCause => ({ reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${show(value)}` });
const forbidden = (field: string, why: string): StatusCause => ({ reason: 'FieldValueForbidden', field, message: `Forbidden: ${why}` });
const tooLong = (field: string, value: unknown, max: number): StatusCause => ({ reason: 'FieldValueTooLong', field, message: `Too long: may not be more than ${max} bytes` });

function fromAjv(e: ErrorObject, obj: unknown): StatusCause | undefined {
  const field = pointerToPath(e.instancePath);
  const value = e.instancePath.split('/').slice(1).reduce<any>((v, k) => v?.[k.replaceAll('~1', '/').replaceAll('~0', '~')], obj);
  switch (e.keyword) {
    case 'required':
      return required(join(field, (e.params as any).missingProperty));
    case 'type':
      return invalid(field, value, `must be of type ${String((e.params as any).type).replace(',', ' or ')}`);
    case 'enum':
      return unsupported(field, value, (e.params as any).allowedValues);
    case 'minimum':
      return invalid(field, value, `must be greater than or equal to ${(e.params as any).limit}`);
    case 'maximum':
      return invalid(field, value, `must be less than or equal to ${(e.params as any).limit}`);
    case 'additionalProperties':
      return undefined; // handled by pruning
    default:
      return invalid(field, value, e.message ?? 'invalid');
  }
}

// ---- pruning ---------------------------------------------------------------------------

function prune(schema: any, value: any, path: string, unknown: string[]): void {
  if (!schema || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((v, i) => prune(schema.items, v, `${path}[${i}]`, unknown));
    return;
  }
  const props = schema.properties as Record<string, any> | undefined;
  for (const key of Object.keys(value)) {
    if (props && key in props) prune(props[key], value[key], join(path, key), unknown);
    else if (schema.additionalProperties === false) {
      unknown.push(join(path, key));
      delete value[key];
    } else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
      prune(schema.additionalProperties, value[key], join(path, key), unknown);
    }
  }
}

// ---- names, labels, annotations --------------------------------------------------------

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export function dnsLabelErrors(field: string, value: string): StatusCause[] {
  if (value.length > 63) return [invalid(field, value, 'must be no more than 63 characters')];
  if (!DNS1123_LABEL.test(value)) {
    return [invalid(field, value, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")];
  }
  return [];
}

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function dns1035LabelErrors(field: string, value: string): StatusCause[] {
  if (value.length > 63) return [invalid(field, value, 'must be no more than 63 characters')];
  if (!DNS1035_LABEL.test(value)) {
    return [invalid(field, value, "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")];
  }
  return [];
}

export function dnsSubdomainErrors(field: string, value: string): StatusCause[] {
  if (value.length > 253) return [invalid(field, value, 'must be no more than 253 characters')];
  if (!DNS1123_SUBDOMAIN.test(value)) {
    return [invalid(field, value, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")];
  }
  return [];
}

function qualifiedNameErrors(field: string, key: string): StatusCause[] {
  const parts = key.split('/');
  if (parts.length > 2) return [invalid(field, key, "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and '/'")];
  const name = parts[parts.length - 1];
  const out: StatusCause[] = [];
  if (parts.length === 2 && (parts[0] === '' || dnsSubdomainErrors(field, parts[0]).length)) out.push(invalid(field, key, 'prefix part must be a lowercase RFC 1123 subdomain'));
  if (!name || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    out.push(invalid(field, key, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"));
  }
  return out;
}

function labelErrors(field: string, labels: Record<string, unknown> | undefined): StatusCause[] {
  const out: StatusCause[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    out.push(...qualifiedNameErrors(field, k));
    if (typeof v === 'string' && (v.length > 63 || !LABEL_VALUE.test(v))) {
      out.push(invalid(field, v, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"));
    }
  }
  return out;
}

function metadataErrors(kind: string, meta: any): StatusCause[] {
  const out: StatusCause[] = [];
  if (!meta || typeof meta !== 'object') return out;
  if (typeof meta.name === 'string' && meta.name) {
    // As Kubernetes: a Service's name is a DNS-1035 label (it becomes a DNS name and env variables).
    const nameErrors = kind === 'Service' ? dns1035LabelErrors : kind === 'Namespace' ? dnsLabelErrors : dnsSubdomainErrors;
    out.push(...nameErrors('metadata.name', meta.name));
  }
  if (typeof meta.namespace === 'string' && meta.namespace) out.push(...dnsLabelErrors('metadata.namespace', meta.namespace));
  out.push(...labelErrors('metadata.labels', meta.labels));
  for (const k of Object.keys(meta.annotations ?? {})) out.push(...qualifiedNameErrors('metadata.annotations', k));
  const size = Object.entries(meta.annotations ?? {}).reduce((s, [k, v]) => s + k.length + String(v).length, 0);
  if (size > 256 * 1024) out.push(tooLong('metadata.annotations', '', 256 * 1024));
  return out;
}

// ---- pod specs -------------------------------------------------------------------------

function probeErrors(field: string, probe: any, ports: any[]): StatusCause[] {
  if (!probe || typeof probe !== 'object') return [];
  const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((h) => probe[h]);
  if (handlers.length !== 1) return [required(field, 'must specify a handler type')];
  const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
  if (typeof port === 'number' && (port < 1 || port > 65535)) return [invalid(`${field}.${handlers[0]}.port`, port, 'must be between 1 and 65535, inclusive')];
  if (typeof port === 'string' && !/^\d+$/.test(port) && !ports.some((p) => p?.name === port)) {
    if (!IANA_SVC_NAME.test(port) || port.length > 15) return [invalid(`${field}.${handlers[0]}.port`, port, 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)')];
  }
  return [];
}

function containerErrors(field: string, c: any, names: Set<string>, volumes: Set<string>): StatusCause[] {
  const out: StatusCause[] = [];
  if (!c || typeof c !== 'object') return out;
  if (typeof c.name !== 'string' || !c.name) out.push(required(`${field}.name`));
  else {
    out.push(...dnsLabelErrors(`${field}.name`, c.name));
    if (names.has(c.name)) out.push(duplicate(`${field}.name`, c.name));
    names.add(c.name);
  }
  if (typeof c.image !== 'string' || !c.image.trim()) out.push(required(`${field}.image`));
  const seenPorts = new Set<string>();
  const portNames = new Set<string>();
  (Array.isArray(c.ports) ? c.ports : []).forEach((p: any, i: number) => {
    const pf = `${field}.ports[${i}]`;
    if (typeof p?.containerPort === 'number' && (p.containerPort < 1 || p.containerPort > 65535)) out.push(invalid(`${pf}.containerPort`, p.containerPort, 'must be between 1 and 65535, inclusive'));
    if (typeof p?.hostPort === 'number' && p.hostPort !== 0 && (p.hostPort < 1 || p.hostPort > 65535)) out.push(invalid(`${pf}.hostPort`, p.hostPort, 'must be between 1 and 65535, inclusive'));
    if (typeof p?.name === 'string') {
      if (p.name.length > 15 || !IANA_SVC_NAME.test(p.name) || !/[a-z]/.test(p.name)) out.push(invalid(`${pf}.name`, p.name, 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), at most 15 characters, at least one letter'));
      else if (portNames.has(p.name)) out.push(duplicate(`${pf}.name`, p.name));
      portNames.add(p.name);
    }
    const key = `${p?.containerPort}/${p?.protocol ?? 'TCP'}`;
    if (seenPorts.has(key)) out.push(duplicate(pf, key));
    seenPorts.add(key);
  });
  (Array.isArray(c.env) ? c.env : []).forEach((e: any, i: number) => {
    if (typeof e?.name === 'string' && !ENV_NAME.test(e.name)) out.push(invalid(`${field}.env[${i}].name`, e.name, "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit"));
    if (e?.value !== undefined && e?.valueFrom) out.push(invalid(`${field}.env[${i}].valueFrom`, '', 'may not be specified when `value` is not empty'));
  });
  const res = c.resources ?? {};
  for (const kind of ['limits', 'requests'] as const) {
    for (const [name, q] of Object.entries(res[kind] ?? {})) {
      const f = `${field}.resources.${kind}[${name}]`;
      if (!isValidQuantity(q)) out.push(invalid(f, q, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
      else if (parseQuantity(q as string) < 0) out.push(invalid(f, q, 'must be greater than or equal to 0'));
    }
  }
  for (const [name, q] of Object.entries(res.requests ?? {})) {
    const limit = res.limits?.[name];
    if (limit !== undefined && isValidQuantity(q) && isValidQuantity(limit) && parseQuantity(q as string) > parseQuantity(limit as string)) {
      out.push(invalid(`${field}.resources.requests`, q, `must be less than or equal to ${name} limit of ${limit}`));
    }
  }
  (Array.isArray(c.volumeMounts) ? c.volumeMounts : []).forEach((m: any, i: number) => {
    if (typeof m?.name === 'string' && !volumes.has(m.name)) out.push({ reason: 'FieldValueNotFound', field: `${field}.volumeMounts[${i}].name`, message: `Not found: ${show(m.name)}` });
  });
  for (const p of ['livenessProbe', 'readinessProbe', 'startupProbe']) out.push(...probeErrors(`${field}.${p}`, c[p], c.ports ?? []));
  if (c.livenessProbe && (c.livenessProbe.successThreshold ?? 1) !== 1) out.push(invalid(`${field}.livenessProbe.successThreshold`, c.livenessProbe.successThreshold, 'must be 1'));
  if (c.startupProbe && (c.startupProbe.successThreshold ?? 1) !== 1) out.push(invalid(`${field}.startupProbe.successThreshold`, c.startupProbe.successThreshold, 'must be 1'));
  return out;
}

export function podSpecErrors(field: string, spec: any): StatusCause[] {
  const out: StatusCause[] = [];
  if (!spec || typeof spec !== 'object') return [required(field)];
  const volumes = new Set<string>();
  (Array.isArray(spec.volumes) ? spec.volumes : []).forEach((v: any, i: number) => {
    if (typeof v?.name !== 'string') return;
    out.push(...dnsLabelErrors(`${field}.volumes[${i}].name`, v.name));
    if (volumes.has(v.name)) out.push(duplicate(`${field}.volumes[${i}].name`, v.name));
    volumes.add(v.name);
  });
  const names = new Set<string>();
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) out.push(required(`${field}.containers`));
  (Array.isArray(spec.initContainers) ? spec.initContainers : []).forEach((c: any, i: number) => out.push(...containerErrors(`${field}.initContainers[${i}]`, c, names, volumes)));
  (Array.isArray(spec.containers) ? spec.containers : []).forEach((c: any, i: number) => out.push(...containerErrors(`${field}.containers[${i}]`, c, names, volumes)));
  out.push(...labelErrors(`${field}.nodeSelector`, spec.nodeSelector));
  (Array.isArray(spec.tolerations) ? spec.tolerations : []).forEach((t: any, i: number) => {
    if (t?.operator === 'Exists' && t.value) out.push(invalid(`${field}.tolerations[${i}].operator`, t.operator, 'value must be empty when `operator` is \'Exists\''));
    if (!t?.key && t?.operator !== 'Exists') out.push(invalid(`${field}.tolerations[${i}].operator`, t?.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
  });
  return out;
}

// ---- workloads -------------------------------------------------------------------------

function selectorErrors(field: string, selector: any): StatusCause[] {
  const out: StatusCause[] = [];
  if (!selector || (!Object.keys(selector.matchLabels ?? {}).length && !(selector.matchExpressions ?? []).length)) return [required(field)];
  out.push(...labelErrors(`${field}.matchLabels`, selector.matchLabels));
  (selector.matchExpressions ?? []).forEach((e: any, i: number) => {
    const f = `${field}.matchExpressions[${i}]`;
    if ((e.operator === 'In' || e.operator === 'NotIn') && !(e.values ?? []).length) out.push(required(`${f}.values`, 'must be specified when `operator` is \'In\' or \'NotIn\''));
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && (e.values ?? []).length) out.push(forbidden(`${f}.values`, 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\''));
  });
  return out;
}

function goMap(labels: Record<string, string>): string {
  return `map[string]string{${Object.keys(labels).sort().map((k) => `"${k}":"${labels[k]}"`).join(', ')}}`;
}

function templateErrors(field: string, spec: any, restartPolicies: string[]): StatusCause[] {
  const out: StatusCause[] = [];
  const template = spec?.template;
  if (!template || typeof template !== 'object') return [required(`${field}.template`)];
  const labels = template.metadata?.labels ?? {};
  out.push(...labelErrors(`${field}.template.metadata.labels`, labels));
  if (spec.selector && selectorErrors(`${field}.selector`, spec.selector).length === 0 && !selectorMatches(spec.selector, labels)) {
    out.push({ reason: 'FieldValueInvalid', field: `${field}.template.metadata.labels`, message: `Invalid value: ${goMap(labels)}: \`selector\` does not match template \`labels\`` });
  }
  out.push(...podSpecErrors(`${field}.template.spec`, template.spec));
  const policy = template.spec?.restartPolicy;
  if (policy !== undefined && !restartPolicies.includes(policy)) out.push(unsupported(`${field}.template.spec.restartPolicy`, policy, restartPolicies));
  return out;
}

function intOrPercent(field: string, v: unknown): { causes: StatusCause[]; zero: boolean } {
  if (v === undefined) return { causes: [], zero: false };
  if (typeof v === 'number') return { causes: v < 0 ? [invalid(field, v, 'must be greater than or equal to 0')] : [], zero: v === 0 };
  const m = /^(\d+)%$/.exec(String(v));
  if (!m) return { causes: [invalid(field, v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")], zero: false };
  if (Number(m[1]) > 100) return { causes: [invalid(field, v, 'must not be greater than 100%')], zero: false };
  return { causes: [], zero: Number(m[1]) === 0 };
}

function deploymentErrors(spec: any): StatusCause[] {
  const out: StatusCause[] = [...selectorErrors('spec.selector', spec.selector), ...templateErrors('spec', spec, ['Always'])];
  const strategy = spec.strategy ?? {};
  if (strategy.type === 'Recreate' && strategy.rollingUpdate) out.push(forbidden('spec.strategy.rollingUpdate', 'may not be specified when strategy `type` is \'Recreate\''));
  if ((strategy.type ?? 'RollingUpdate') === 'RollingUpdate' && strategy.rollingUpdate) {
    const surge = intOrPercent('spec.strategy.rollingUpdate.maxSurge', strategy.rollingUpdate.maxSurge);
    const unavailable = intOrPercent('spec.strategy.rollingUpdate.maxUnavailable', strategy.rollingUpdate.maxUnavailable);
    out.push(...surge.causes, ...unavailable.causes);
    if (surge.zero && unavailable.zero) out.push(invalid('spec.strategy.rollingUpdate.maxUnavailable', strategy.rollingUpdate.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
  }
  if (spec.progressDeadlineSeconds !== undefined && spec.minReadySeconds !== undefined && spec.progressDeadlineSeconds <= spec.minReadySeconds) {
    out.push(invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
  }
  return out;
}

function daemonSetErrors(spec: any): StatusCause[] {
  const out: StatusCause[] = [...selectorErrors('spec.selector', spec.selector), ...templateErrors('spec', spec, ['Always'])];
  const strategy = spec.updateStrategy ?? {};
  if (strategy.type === 'OnDelete' && strategy.rollingUpdate) out.push(forbidden('spec.updateStrategy.rollingUpdate', 'may not be specified when strategy `type` is \'OnDelete\''));
  if ((strategy.type ?? 'RollingUpdate') === 'RollingUpdate' && strategy.rollingUpdate) {
    const surge = intOrPercent('spec.updateStrategy.rollingUpdate.maxSurge', strategy.rollingUpdate.maxSurge);
    const unavailable = intOrPercent('spec.updateStrategy.rollingUpdate.maxUnavailable', strategy.rollingUpdate.maxUnavailable);
    out.push(...surge.causes, ...unavailable.causes);
    if (surge.zero && unavailable.zero) out.push(invalid('spec.updateStrategy.rollingUpdate.maxUnavailable', strategy.rollingUpdate.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
  }
  return out;
}

function jobErrors(field: string, spec: any): StatusCause[] {
  const out = templateErrors(field, spec, ['OnFailure', 'Never']);
  if (spec?.template?.spec && spec.template.spec.restartPolicy === undefined) out.push(required(`${field}.template.spec.restartPolicy`, 'valid values: "OnFailure", "Never"'));
  return out;
}

// ---- services --------------------------------------------------------------------------

const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;

/** Kubernetes' IsValidPortNum: 1..65535. */
function portNumErrors(field: string, value: unknown): StatusCause[] {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535 ? [] : [invalid(field, value, 'must be between 1 and 65535, inclusive')];
}

/** Kubernetes' IsValidPortName (an IANA_SVC_NAME): one cause per rule broken. */
function portNameErrors(field: string, name: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (name.length > 15) out.push(invalid(field, name, 'must be no more than 15 characters'));
  if (!/^[-a-z0-9]+$/.test(name)) out.push(invalid(field, name, 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'));
  if (!/[a-z]/.test(name)) out.push(invalid(field, name, 'must contain at least one letter (a-z)'));
  if (name.includes('--')) out.push(invalid(field, name, 'must not contain consecutive hyphens'));
  if (name.startsWith('-') || name.endsWith('-')) out.push(invalid(field, name, 'must not begin or end with a hyphen'));
  return out;
}

/** The (protocol, port) key of a duplicate port, printed as Kubernetes prints its Go value. */
function goServicePort(protocol: string, port: unknown): string {
  return `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol)}, AppProtocol:(*string)(nil), Port:${port}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;
}

/** As Kubernetes' ExternallyAccessible: where externalTrafficPolicy means something. */
function externallyAccessible(spec: any): boolean {
  const type = spec?.type ?? 'ClusterIP';
  return type === 'LoadBalancer' || type === 'NodePort' || (type === 'ClusterIP' && (spec?.externalIPs ?? []).length > 0);
}

const hasSelector = (spec: any) => !!spec?.selector && typeof spec.selector === 'object' && Object.keys(spec.selector).length > 0;

/**
 * Kubernetes' ValidateService (and validateServicePort, validateClientIPAffinityConfig,
 * validateLoadBalancerClassField, validateServiceExternalTrafficPolicy) for what Wharf implements,
 * plus one rule of Wharf's own: a Service with a cluster IP (ClusterIP, NodePort, LoadBalancer)
 * must select pods — Wharf has no user-managed Endpoints for selectorless Services.
 *
 * Node ports are checked here only as numbers and for duplicates within the Service; the
 * configured range and uniqueness across Services are the allocator's (services/api/service-ips.ts).
 *
 * On an update, a selector an older Service never had is tolerated rather than refused, so that
 * such objects stay editable. Values a type change leaves behind unchanged (externalTrafficPolicy
 * after leaving NodePort, loadBalancerClass after leaving LoadBalancer) never reach this: the API
 * server drops them first (dropTypeDependentFields, as Kubernetes' PrepareForUpdate).
 */
function serviceErrors(spec: any, old?: any): StatusCause[] {
  const out: StatusCause[] = [];
  const type = spec.type ?? 'ClusterIP';
  const oldSpec = old?.spec;
  const headless = spec.clusterIP === 'None';
  const ports: any[] = Array.isArray(spec.ports) ? spec.ports : [];
  if (type !== 'ExternalName' && !headless && ports.length === 0) out.push(required('spec.ports'));
  if (headless && (type === 'LoadBalancer' || type === 'NodePort')) out.push(invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${type} services`));
  if (type === 'ExternalName') {
    // The value (a CNAME) may end in a dot, as a fully qualified name.
    const cname = typeof spec.externalName === 'string' ? spec.externalName.replace(/\.$/, '') : '';
    if (cname) out.push(...dnsSubdomainErrors('spec.externalName', cname));
    else out.push(required('spec.externalName'));
  } else if (!hasSelector(spec) && !(oldSpec && (oldSpec.type ?? 'ClusterIP') !== 'ExternalName' && !hasSelector(oldSpec))) {
    out.push(required('spec.selector'));
  }

  const names = new Set<string>();
  ports.forEach((p: any, i: number) => {
    const f = `spec.ports[${i}]`;
    if (!p || typeof p !== 'object') return;
    if (ports.length > 1 && !p.name) out.push(required(`${f}.name`));
    else if (p.name) {
      out.push(...dnsLabelErrors(`${f}.name`, p.name));
      if (names.has(p.name)) out.push(duplicate(`${f}.name`, p.name));
      names.add(p.name);
    }
    if (p.port !== undefined) out.push(...portNumErrors(`${f}.port`, p.port));
    if (typeof p.targetPort === 'number') out.push(...portNumErrors(`${f}.targetPort`, p.targetPort));
    else if (typeof p.targetPort === 'string') out.push(...portNameErrors(`${f}.targetPort`, p.targetPort));
    if (p.nodePort !== undefined && p.nodePort !== 0) {
      if (type === 'ClusterIP') out.push(forbidden(`${f}.nodePort`, "may not be used when `type` is 'ClusterIP'"));
      else out.push(...portNumErrors(`${f}.nodePort`, p.nodePort));
    }
    if (typeof p.appProtocol === 'string') out.push(...qualifiedNameErrors(`${f}.appProtocol`, p.appProtocol));
  });
  // Duplicates consider (protocol, port) pairs, and (protocol, nodePort) pairs.
  const nodePorts = new Set<string>();
  const pairs = new Set<string>();
  ports.forEach((p: any, i: number) => {
    if (!p || typeof p !== 'object') return;
    const protocol = p.protocol ?? 'TCP';
    if (p.nodePort) {
      const key = `${protocol}/${p.nodePort}`;
      if (nodePorts.has(key)) out.push(duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
      nodePorts.add(key);
    }
    const key = `${protocol}/${p.port}`;
    if (pairs.has(key)) out.push({ reason: 'FieldValueDuplicate', field: `spec.ports[${i}]`, message: `Duplicate value: ${goServicePort(protocol, p.port)}` });
    pairs.add(key);
  });

  out.push(...labelErrors('spec.selector', spec.selector));

  const affinity = spec.sessionAffinity ?? 'None';
  const affinityConfig = spec.sessionAffinityConfig;
  if (affinity === 'ClientIP') {
    const why = 'when session affinity type is ClientIP';
    const timeout = affinityConfig?.clientIP?.timeoutSeconds;
    if (!affinityConfig || typeof affinityConfig !== 'object') out.push(required('spec.sessionAffinityConfig', why));
    else if (!affinityConfig.clientIP || typeof affinityConfig.clientIP !== 'object') out.push(required('spec.sessionAffinityConfig.clientIP', why));
    else if (timeout === undefined || timeout === null) out.push(required('spec.sessionAffinityConfig.clientIP.timeoutSeconds', why));
    else if (!Number.isInteger(timeout) || timeout <= 0 || timeout > MAX_CLIENT_IP_AFFINITY_SECONDS) {
      out.push(invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', timeout, `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`));
    }
  } else if (affinity === 'None' && affinityConfig !== undefined && affinityConfig !== null) {
    out.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }

  (Array.isArray(spec.externalIPs) ? spec.externalIPs : []).forEach((ip: unknown, i: number) => {
    if (typeof ip !== 'string' || !isIP(ip)) out.push(invalid(`spec.externalIPs[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  });

  const policy = spec.externalTrafficPolicy;
  if (policy !== undefined && policy !== '' && !externallyAccessible(spec)) {
    out.push(invalid('spec.externalTrafficPolicy', policy, 'may only be set for externally-accessible services'));
  }

  const lbClass = spec.loadBalancerClass;
  if (type === 'LoadBalancer') {
    if (oldSpec?.type === 'LoadBalancer' && (oldSpec.loadBalancerClass ?? null) !== (lbClass ?? null)) out.push(invalid('spec.loadBalancerClass', lbClass, 'may not change once set'));
    if (typeof lbClass === 'string') out.push(...qualifiedNameErrors('spec.loadBalancerClass', lbClass));
  } else if (lbClass !== undefined && lbClass !== null) {
    out.push(forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
  }
  return out;
}

// ---- updates ---------------------------------------------------------------------------

const POD_MUTABLE = ['activeDeadlineSeconds', 'tolerations', 'terminationGracePeriodSeconds', 'schedulingGates'];

function updateErrors(kind: string, obj: any, old: any): StatusCause[] {
  const out: StatusCause[] = [];
  if (old.metadata?.name !== obj.metadata?.name) out.push(invalid('metadata.name', obj.metadata?.name, 'field is immutable'));
  if ((old.metadata?.namespace ?? '') !== (obj.metadata?.namespace ?? '')) out.push(invalid('metadata.namespace', obj.metadata?.namespace, 'field is immutable'));
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if ((kind === 'Deployment' || kind === 'ReplicaSet' || kind === 'DaemonSet') && old.spec?.selector && !same(old.spec.selector, obj.spec?.selector)) {
    out.push(invalid('spec.selector', obj.spec?.selector, 'field is immutable'));
  }
  if (kind === 'Job' && old.spec?.template && !same(old.spec.template, obj.spec?.template)) out.push(invalid('spec.template', '', 'field is immutable'));
  if (kind === 'Service' && old.spec?.clusterIP && obj.spec?.clusterIP !== undefined && obj.spec.clusterIP !== old.spec.clusterIP) {
    out.push(invalid('spec.clusterIPs[0]', obj.spec.clusterIP, 'may not change once set'));
  }
  if (kind === 'Pod') {
    const strip = (spec: any) => {
      const s = structuredClone(spec ?? {});
      for (const k of POD_MUTABLE) delete s[k];
      for (const c of [...(s.containers ?? []), ...(s.initContainers ?? [])]) delete c.image;
      delete s.nodeName;
      return s;
    };
    if (!same(strip(old.spec), strip(obj.spec))) {
      out.push(forbidden('spec', 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)'));
    }
  }
  return out;
}

// ---- endpoint slices -------------------------------------------------------------------

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const ENDPOINT_PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const MAX_SLICE_ENDPOINTS = 1000;
const MAX_ENDPOINT_ADDRESSES = 100;
const MAX_SLICE_PORTS = 20000;
const MAX_TOPOLOGY_LABELS = 16;
const MAX_ZONE_HINTS = 8;

const tooMany = (field: string, actual: number, max: number): StatusCause => ({ reason: 'FieldValueTooMany', field, message: `Too many: ${actual}: must have at most ${max} items` });

const SPECIAL_ENDPOINT_IPS: [BlockList, string][] = (() => {
  const ranges = (...subnets: [string, number, 'ipv4' | 'ipv6'][]) => {
    const list = new BlockList();
    for (const [net, prefix, family] of subnets) list.addSubnet(net, prefix, family);
    return list;
  };
  return [
    [ranges(['0.0.0.0', 32, 'ipv4'], ['::', 128, 'ipv6']), 'may not be unspecified'],
    [ranges(['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']), 'may not be in the loopback range (127.0.0.0/8, ::1/128)'],
    [ranges(['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']), 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'],
    [ranges(['224.0.0.0', 24, 'ipv4'], ['ff02::', 16, 'ipv6']), 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'],
  ];
})();

/** Kubernetes' IsValidIPv4Address / IsValidIPv6Address, then ValidateEndpointIP. */
function endpointIpErrors(field: string, address: string, family: 4 | 6): StatusCause[] {
  const out: StatusCause[] = [];
  if (isIP(address) !== family) out.push(invalid(field, address, `must be a valid IPv${family} address`));
  if (!isIP(address)) return [...out, invalid(field, address, 'must be a valid IP address')];
  const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
  for (const [range, why] of SPECIAL_ENDPOINT_IPS) {
    if (range.check(address, type)) out.push(invalid(field, address, why === 'may not be unspecified' ? `${why} (${address})` : why));
  }
  return out;
}

/** Kubernetes' IsFullyQualifiedDomainName. */
function fqdnErrors(field: string, value: string): StatusCause[] {
  if (!value) return [required(field)];
  const name = value.replace(/\.$/, '');
  const subdomain = dnsSubdomainErrors(field, name);
  if (subdomain.length) return subdomain;
  const labels = name.split('.');
  if (labels.length < 2) return [invalid(field, name, 'should be a domain with at least two segments separated by dots')];
  for (const label of labels) {
    const errs = dnsLabelErrors(field, label);
    if (errs.length) return errs;
  }
  return [];
}

/**
 * Kubernetes' ValidateEndpointSlice (discovery/v1): the address type, at most 1000 endpoints of
 * 1 to 100 addresses each of that type, node names, hostnames, topology and zone hints, and ports
 * with unique names and a supported protocol; on an update, the address type is immutable.
 */
function endpointSliceErrors(slice: any, old?: any): StatusCause[] {
  const out: StatusCause[] = [];
  const addressType = slice.addressType ?? '';
  if (addressType === '') out.push(required('addressType'));
  else if (!ADDRESS_TYPES.includes(addressType)) out.push(unsupported('addressType', addressType, ADDRESS_TYPES));

  const endpoints: any[] = Array.isArray(slice.endpoints) ? slice.endpoints : [];
  if (endpoints.length > MAX_SLICE_ENDPOINTS) out.push(tooMany('endpoints', endpoints.length, MAX_SLICE_ENDPOINTS));
  else {
    endpoints.forEach((ep: any, i: number) => {
      const f = `endpoints[${i}]`;
      const addresses: string[] = Array.isArray(ep?.addresses) ? ep.addresses : [];
      if (!addresses.length) out.push(required(`${f}.addresses`, 'must contain at least 1 address'));
      else if (addresses.length > MAX_ENDPOINT_ADDRESSES) out.push(tooMany(`${f}.addresses`, addresses.length, MAX_ENDPOINT_ADDRESSES));
      addresses.forEach((address, j) => {
        const af = `${f}.addresses[${j}]`;
        if (addressType === 'IPv4') out.push(...endpointIpErrors(af, address, 4));
        else if (addressType === 'IPv6') out.push(...endpointIpErrors(af, address, 6));
        else if (addressType === 'FQDN') out.push(...fqdnErrors(af, address));
      });
      if (typeof ep?.nodeName === 'string') out.push(...dnsSubdomainErrors(`${f}.nodeName`, ep.nodeName));
      const topology = ep?.deprecatedTopology ?? {};
      if (Object.keys(topology).length > MAX_TOPOLOGY_LABELS) out.push(tooMany(`${f}.deprecatedTopology`, Object.keys(topology).length, MAX_TOPOLOGY_LABELS));
      out.push(...labelErrors(`${f}.deprecatedTopology`, topology));
      if (typeof ep?.hostname === 'string') out.push(...dnsLabelErrors(`${f}.hostname`, ep.hostname));
      const zones: any[] = ep?.hints?.forZones ?? [];
      if (zones.length > MAX_ZONE_HINTS) out.push(tooMany(`${f}.hints.forZones`, zones.length, MAX_ZONE_HINTS));
      else {
        const seen = new Set<string>();
        zones.forEach((z: any, k: number) => {
          const zf = `${f}.hints.forZones[${k}].name`;
          if (seen.has(z.name)) out.push(duplicate(zf, z.name));
          seen.add(z.name);
          if (z.name.length > 63 || !LABEL_VALUE.test(z.name)) out.push(invalid(zf, z.name, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"));
        });
      }
    });
  }

  const ports: any[] = Array.isArray(slice.ports) ? slice.ports : [];
  if (ports.length > MAX_SLICE_PORTS) out.push(tooMany('ports', ports.length, MAX_SLICE_PORTS));
  else {
    const names = new Set<string>();
    ports.forEach((p: any, i: number) => {
      const f = `ports[${i}]`;
      const name = p?.name ?? '';
      if (name) out.push(...dnsLabelErrors(`${f}.name`, name));
      if (names.has(name)) out.push(duplicate(`${f}.name`, name));
      names.add(name);
      if (p?.protocol === undefined) out.push(required(`${f}.protocol`));
      else if (!ENDPOINT_PORT_PROTOCOLS.includes(p.protocol)) out.push(unsupported(`${f}.protocol`, p.protocol, ENDPOINT_PORT_PROTOCOLS));
      if (typeof p?.appProtocol === 'string') out.push(...qualifiedNameErrors(`${f}.appProtocol`, p.appProtocol));
    });
  }

  if (old && (old.addressType ?? '') !== addressType) out.push(invalid('addressType', addressType, 'field is immutable'));
  return out;
}

/** scheduling.k8s.io/v1 PriorityClass: user classes at most 1e9 and not named system-*; value and preemptionPolicy immutable. */
function priorityClassErrors(pc: any, old: any): StatusCause[] {
  const out: StatusCause[] = [];
  const name = String(pc.metadata?.name ?? '');
  const builtin = SYSTEM_PRIORITY_CLASSES.find((c) => c.name === name);
  if (builtin ? pc.value !== builtin.value : name.startsWith('system-')) out.push(forbidden('metadata.name', 'priority class names with \'system-\' prefix are reserved for system use only'));
  else if (!builtin && pc.value > HIGHEST_USER_DEFINABLE_PRIORITY) out.push(forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  if (old && old.value !== pc.value) out.push(forbidden('value', 'may not be changed in an update.'));
  if (old && (old.preemptionPolicy ?? 'PreemptLowerPriority') !== (pc.preemptionPolicy ?? 'PreemptLowerPriority')) out.push(invalid('preemptionPolicy', pc.preemptionPolicy, 'field is immutable'));
  return out;
}

/** policy/v1 PodDisruptionBudget: one of minAvailable or maxUnavailable, each a non-negative int or a percent up to 100%. */
function pdbErrors(spec: any): StatusCause[] {
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

// ---- entry point -----------------------------------------------------------------------

export function validateObject(kind: string, obj: KubeObject, opts: { isUpdate?: boolean; old?: KubeObject } = {}): ValidationResult {
  const unknownFields: string[] = [];
  const schema = schemaFor(kind);
  if (schema) prune(schema, obj, '', unknownFields);
  const causes: StatusCause[] = [];
  const validate = validatorFor(kind);
  if (validate && !validate(obj)) {
    for (const e of validate.errors ?? []) {
      const cause = fromAjv(e, obj);
      if (cause) causes.push(cause);
    }
  }
  // Semantic checks assume well-typed input; report type errors alone first.
  if (causes.length) return { causes, unknownFields };
  causes.push(...metadataErrors(kind, obj.metadata));
  const spec = obj.spec;
  switch (kind) {
    case 'Pod':
      causes.push(...podSpecErrors('spec', spec));
      break;
    case 'Deployment':
      causes.push(...deploymentErrors(spec ?? {}));
      break;
    case 'ReplicaSet':
      causes.push(...selectorErrors('spec.selector', spec?.selector), ...templateErrors('spec', spec ?? {}, ['Always']));
      break;
    case 'DaemonSet':
      causes.push(...daemonSetErrors(spec ?? {}));
      break;
    case 'Job':
      if (spec?.selector && spec.manualSelector) causes.push(...selectorErrors('spec.selector', spec.selector));
      causes.push(...jobErrors('spec', spec));
      break;
    case 'CronJob':
      try {
        CronExpressionParser.parse(String(spec?.schedule ?? ''), { tz: spec?.timeZone ?? 'UTC' });
        if (String(spec?.schedule ?? '').trim().split(/\s+/).length > 5 && !String(spec?.schedule).startsWith('@')) throw new Error('too many fields');
      } catch {
        causes.push(invalid('spec.schedule', spec?.schedule, 'unparseable schedule'));
      }
      causes.push(...jobErrors('spec.jobTemplate.spec', spec?.jobTemplate?.spec));
      break;
    case 'PodDisruptionBudget':
      causes.push(...pdbErrors(spec ?? {}));
      break;
    case 'PriorityClass':
      causes.push(...priorityClassErrors(obj, opts.isUpdate ? opts.old : undefined));
      break;
    case 'Service':
      causes.push(...serviceErrors(spec ?? {}, opts.isUpdate ? opts.old : undefined));
      break;
    case 'ConfigMap':
    case 'Secret':
      for (const key of [...Object.keys((obj as any).data ?? {}), ...Object.keys((obj as any).binaryData ?? {}), ...Object.keys((obj as any).stringData ?? {})]) {
        if (!/^[-._a-zA-Z0-9]+$/.test(key)) causes.push(invalid(`data[${key}]`, key, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
      }
      if (kind === 'Secret') {
        for (const [k, v] of Object.entries((obj as any).data ?? {})) {
          if (typeof v === 'string' && !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) causes.push(invalid(`data[${k}]`, '<secret contents redacted>', 'must be base64-encoded'));
        }
      }
      break;
    case 'EndpointSlice':
      causes.push(...endpointSliceErrors(obj, opts.isUpdate ? opts.old : undefined));
      break;
  }
  if (opts.isUpdate && opts.old) causes.push(...updateErrors(kind, obj, opts.old));
  return { causes, unknownFields };
}
