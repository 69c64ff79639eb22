// Service validation as Kubernetes' ValidateService does it, through the Service strategy's
// defaults then validation: each refusal is a 422 Invalid naming the field the way kubectl prints it.
import test from 'ava';
import { applyDefaults, validateObject } from '../../shared/registry/admission.ts';
import { dropTypeDependentFields } from '../../shared/registry/kinds/service-allocation.ts';
import { ApiError, InvalidError } from '../../shared/errors.ts';
import type { KubeObject, StatusCause } from '../../shared/types.ts';

const svc = (spec: Record<string, any> = {}, name = 'web'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }], ...spec },
});

/** The 422 a create (or, with old, an update) would answer; undefined when admitted. */
function refusal(obj: KubeObject, old?: KubeObject): ApiError | undefined {
  applyDefaults('Service', obj);
  const { causes } = validateObject('Service', obj, { old });
  return causes.length ? new InvalidError('Service', obj.metadata.name!, causes) : undefined;
}

function causes(obj: KubeObject, old?: KubeObject): StatusCause[] {
  return refusal(obj, old)?.details?.causes ?? [];
}

/** The one line kubectl prints per cause: `field: message`. */
function lines(obj: KubeObject, old?: KubeObject): string[] {
  return causes(obj, old).map((c) => `${c.field}: ${c.message}`);
}

test('a valid Service of each type is admitted', (t) => {
  t.is(refusal(svc()), undefined);
  t.is(refusal(svc({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }, { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }] })), undefined);
  t.is(refusal(svc({ type: 'LoadBalancer', loadBalancerClass: 'example.com/lb', externalTrafficPolicy: 'Local' })), undefined);
  t.is(refusal(svc({ type: 'ExternalName', externalName: 'db.example.com.', selector: undefined, ports: undefined })), undefined);
  // Headless: ports are optional.
  t.is(refusal(svc({ clusterIP: 'None', ports: [] })), undefined);
  // A named targetPort, the same port number over two protocols.
  t.is(refusal(svc({ ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' }, { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 'dns-tcp' }] })), undefined);
});

test('a refusal is a 422 Invalid Status naming the field', (t) => {
  const err = refusal(svc({ ports: [{ port: 70000, targetPort: 8080 }] }))!;
  t.is(err.code, 422);
  t.is(err.reason, 'Invalid');
  t.is(err.message, 'Service "web" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive');
  t.deepEqual(err.details, {
    name: 'web',
    group: '',
    kind: 'Service',
    causes: [{ reason: 'FieldValueInvalid', field: 'spec.ports[0].port', message: 'Invalid value: 70000: must be between 1 and 65535, inclusive' }],
  });
});

test('a Service of any type may have no selector: its Endpoints are written by hand', (t) => {
  for (const type of ['ClusterIP', 'NodePort', 'LoadBalancer']) {
    t.is(refusal(svc({ type, selector: undefined })), undefined, type);
    t.is(refusal(svc({ type, selector: {} })), undefined, type);
  }
  t.is(refusal(svc({ clusterIP: 'None', selector: undefined })), undefined);
  t.is(refusal(svc({ type: 'ExternalName', externalName: 'example.com', selector: undefined })), undefined);
  t.is(refusal(svc({ selector: undefined }), svc()), undefined, 'a selector may be dropped');
});

test('ports: at least one unless ExternalName or headless', (t) => {
  t.deepEqual(lines(svc({ ports: [] })), ['spec.ports: Required value']);
  t.deepEqual(lines(svc({ ports: undefined, type: 'NodePort' })), ['spec.ports: Required value']);
  t.deepEqual(lines(svc({ ports: undefined, type: 'LoadBalancer' })), ['spec.ports: Required value']);
  t.deepEqual(lines(svc({ clusterIP: 'None', type: 'NodePort' })), ["spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services"]);
});

test('port and targetPort: 1..65535, or a valid port name', (t) => {
  t.deepEqual(lines(svc({ ports: [{ port: 0, targetPort: 80 }] })), ['spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive']);
  // A targetPort left out is the port, and as wrong.
  t.deepEqual(lines(svc({ ports: [{ port: 70000 }] })), [
    'spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
    'spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
  ]);
  t.deepEqual(lines(svc({ ports: [{ port: 80, targetPort: 65536 }] })), ['spec.ports[0].targetPort: Invalid value: 65536: must be between 1 and 65535, inclusive']);
  t.deepEqual(lines(svc({ ports: [{ port: 80, targetPort: -1 }] })), ['spec.ports[0].targetPort: Invalid value: -1: must be between 1 and 65535, inclusive']);
  // 0 and "" mean "the same as port", as in Kubernetes' defaults.
  const zero = svc({ ports: [{ port: 80, targetPort: 0 }] });
  t.is(refusal(zero), undefined);
  t.is(zero.spec.ports[0].targetPort, 80);
  t.deepEqual(lines(svc({ ports: [{ port: 80, targetPort: 'Http' }] })), ['spec.ports[0].targetPort: Invalid value: "Http": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)']);
  t.deepEqual(lines(svc({ ports: [{ port: 80, targetPort: 'a-very-long-port-name' }] })), ['spec.ports[0].targetPort: Invalid value: "a-very-long-port-name": must be no more than 15 characters']);
  t.deepEqual(lines(svc({ ports: [{ port: 80, targetPort: '8080' }] })), ['spec.ports[0].targetPort: Invalid value: "8080": must contain at least one letter (a-z)']);
  t.deepEqual(lines(svc({ ports: [{ port: 80, targetPort: 'web--1' }] })), ['spec.ports[0].targetPort: Invalid value: "web--1": must not contain consecutive hyphens']);
  t.deepEqual(lines(svc({ ports: [{ port: 80, targetPort: '-web' }] })), ['spec.ports[0].targetPort: Invalid value: "-web": must not begin or end with a hyphen']);
  // The schema speaks first for a wrong type.
  t.deepEqual(lines(svc({ ports: [{ port: 'http' }] })), ['spec.ports[0].port: Invalid value: "http": must be of type integer']);
});

test('protocol and type are enumerations', (t) => {
  t.deepEqual(lines(svc({ ports: [{ port: 80, protocol: 'HTTP' }] })), ['spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "TCP", "UDP", "SCTP"']);
  t.deepEqual(causes(svc({ type: 'Ingress' })).map((c) => [c.field, c.reason]), [['spec.type', 'FieldValueNotSupported']]);
});

test('port names: required and unique when there are several, DNS-1123 labels', (t) => {
  t.deepEqual(lines(svc({ ports: [{ name: 'http', port: 80 }, { port: 81 }] })), ['spec.ports[1].name: Required value']);
  t.deepEqual(lines(svc({ ports: [{ port: 80 }, { port: 81 }] })), ['spec.ports[0].name: Required value', 'spec.ports[1].name: Required value']);
  t.deepEqual(lines(svc({ ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] })), ['spec.ports[1].name: Duplicate value: "http"']);
  t.deepEqual(lines(svc({ ports: [{ name: 'Http', port: 80 }] })), [
    `spec.ports[0].name: Invalid value: "Http": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
  ]);
  // A single port may go unnamed.
  t.is(refusal(svc({ ports: [{ port: 80 }] })), undefined);
});

test('duplicate (port, protocol) pairs', (t) => {
  t.deepEqual(lines(svc({ ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80, protocol: 'TCP' }] })), [
    'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
  ]);
  t.is(refusal(svc({ ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80, protocol: 'UDP' }] })), undefined);
});

test('nodePort: a port number, not with ClusterIP, not twice in one Service (the range is the allocator\'s)', (t) => {
  t.deepEqual(causes(svc({ ports: [{ port: 80, nodePort: 30080 }] })), [
    { reason: 'FieldValueForbidden', field: 'spec.ports[0].nodePort', message: "Forbidden: may not be used when `type` is 'ClusterIP'" },
  ]);
  t.deepEqual(lines(svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 70000 }] })), ['spec.ports[0].nodePort: Invalid value: 70000: must be between 1 and 65535, inclusive']);
  t.deepEqual(lines(svc({ type: 'NodePort', ports: [{ port: 80, nodePort: -1 }] })), ['spec.ports[0].nodePort: Invalid value: -1: must be between 1 and 65535, inclusive']);
  // Outside the node-port range is not validation's business: the allocator answers for it.
  t.is(refusal(svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] })), undefined);
  t.is(refusal(svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 0 }] })), undefined);
  t.is(refusal(svc({ ports: [{ port: 80, nodePort: 0 }] })), undefined);
  t.deepEqual(lines(svc({ type: 'LoadBalancer', ports: [{ name: 'a', port: 80, nodePort: 30080 }, { name: 'b', port: 81, nodePort: 30080 }] })), ['spec.ports[1].nodePort: Duplicate value: 30080']);
  // The same node port over two protocols is two ports.
  t.is(refusal(svc({ type: 'NodePort', ports: [{ name: 'a', port: 53, nodePort: 30053 }, { name: 'b', port: 53, protocol: 'UDP', nodePort: 30053 }] })), undefined);
  t.deepEqual(lines(svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080.5 }] })), ['spec.ports[0].nodePort: Invalid value: 30080.5: must be of type integer']);
});

test('session affinity: None or ClientIP, a timeout only with ClientIP', (t) => {
  t.deepEqual(lines(svc({ sessionAffinity: 'Sticky' })), ['spec.sessionAffinity: Unsupported value: "Sticky": supported values: "None", "ClientIP"']);
  const defaulted = svc({ sessionAffinity: 'ClientIP' });
  t.is(refusal(defaulted), undefined);
  t.deepEqual(defaulted.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
  t.is(refusal(svc({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 86400 } } })), undefined);
  t.is(refusal(svc({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 1 } } })), undefined);
  for (const timeoutSeconds of [0, 86401, -5]) {
    t.deepEqual(lines(svc({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds } } })), [
      `spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: ${timeoutSeconds}: must be greater than 0 and less than 86400`,
    ]);
  }
  t.deepEqual(lines(svc({ sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } })), ['spec.sessionAffinityConfig: Forbidden: must not be set when session affinity is None']);
});

test('externalTrafficPolicy: Cluster or Local, only for externally-accessible Services', (t) => {
  t.deepEqual(lines(svc({ externalTrafficPolicy: 'Local' })), ['spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services']);
  t.deepEqual(lines(svc({ type: 'NodePort', externalTrafficPolicy: 'Nearest' })), ['spec.externalTrafficPolicy: Unsupported value: "Nearest": supported values: "Cluster", "Local"']);
  for (const type of ['NodePort', 'LoadBalancer']) {
    const s = svc({ type });
    t.is(refusal(s), undefined);
    t.is(s.spec.externalTrafficPolicy, 'Cluster');
  }
  // A ClusterIP Service with external IPs is reachable from outside too.
  t.is(refusal(svc({ externalIPs: ['192.0.2.10'], externalTrafficPolicy: 'Local' })), undefined);
  t.deepEqual(lines(svc({ externalIPs: ['not-an-ip'] })), ['spec.externalIPs[0]: Invalid value: "not-an-ip": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']);
});

test('ExternalName: spec.externalName is a required DNS-1123 subdomain', (t) => {
  const ext = (externalName?: string) => svc({ type: 'ExternalName', externalName, selector: undefined, ports: undefined });
  t.deepEqual(lines(ext()), ['spec.externalName: Required value']);
  t.deepEqual(lines(ext('')), ['spec.externalName: Required value']);
  t.deepEqual(lines(ext('Not_A_Host')), [
    `spec.externalName: Invalid value: "Not_A_Host": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
  ]);
  t.is(refusal(ext('my.database.example.com')), undefined);
});

test('loadBalancerClass: a qualified name, only for LoadBalancer, fixed once set', (t) => {
  t.deepEqual(lines(svc({ loadBalancerClass: 'example.com/lb' })), ["spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'"]);
  t.is(causes(svc({ type: 'LoadBalancer', loadBalancerClass: 'not a/valid/class' }))[0]?.field, 'spec.loadBalancerClass');
  const old = svc({ type: 'LoadBalancer', loadBalancerClass: 'example.com/lb' });
  t.deepEqual(lines(svc({ type: 'LoadBalancer', loadBalancerClass: 'example.com/other' }), old), ['spec.loadBalancerClass: Invalid value: "example.com/other": may not change once set']);
  t.deepEqual(lines(svc({ type: 'LoadBalancer' }), old), ['spec.loadBalancerClass: Invalid value: null: may not change once set']);
  t.is(refusal(svc({ type: 'LoadBalancer', loadBalancerClass: 'example.com/lb' }), old), undefined);
});

test('a type change may leave type-dependent values behind unchanged (the API server drops them), not introduce them', (t) => {
  const lb = svc({ type: 'LoadBalancer', loadBalancerClass: 'example.com/lb', externalTrafficPolicy: 'Local' });
  const left = svc({ type: 'ClusterIP', loadBalancerClass: 'example.com/lb', externalTrafficPolicy: 'Local' });
  t.truthy(refusal(left, lb), 'validation alone refuses them');
  dropTypeDependentFields(left, lb);
  t.is(left.spec.loadBalancerClass, undefined);
  t.is(left.spec.externalTrafficPolicy, undefined);
  t.is(refusal(left, lb), undefined);
  t.deepEqual(lines(svc({ type: 'ClusterIP', externalTrafficPolicy: 'Cluster' }), lb), ['spec.externalTrafficPolicy: Invalid value: "Cluster": may only be set for externally-accessible services']);
  t.deepEqual(lines(svc({ type: 'ClusterIP', loadBalancerClass: 'example.com/x' }), lb), ["spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'"]);
});

test('Service names are DNS-1035 labels', (t) => {
  t.deepEqual(lines(svc({}, '1web')), [
    `metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
  ]);
  t.is(refusal(svc({}, 'web-1')), undefined);
});
