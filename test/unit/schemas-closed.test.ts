// The parts of a pod spec, an Endpoints and an Event that Kubernetes types field by field are closed
// schemas in Wharf too: a value of the wrong type is Invalid naming its field (it was stored, and a
// scheduler or node agent later read a string where it walks a list), and an unknown field is one
// (refused under fieldValidation=Strict, pruned otherwise). Found by the API fuzz suite.
import test from 'ava';
import { validateObject } from '../../shared/registry/admission.ts';
import type { KubeObject } from '../../shared/types.ts';

const check = (kind: string, obj: object) => validateObject(kind, obj as KubeObject);
const messages = (kind: string, obj: object) => check(kind, obj).causes.map((c) => `${c.field}: ${c.message}`);
const pod = (spec: object) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec } });

const affinity = {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }], matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n'] }] }] },
    preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: 'disk', operator: 'Exists' }] } }],
  },
  podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'a' } }, topologyKey: 'zone', namespaces: ['x'], matchLabelKeys: ['pod-template-hash'] }] },
  podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { namespaceSelector: {}, topologyKey: 'kubernetes.io/hostname' } }] },
};
const securityContext = { capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] }, privileged: false, seLinuxOptions: { level: 's0' }, runAsUser: 1000, procMount: 'Default', seccompProfile: { type: 'RuntimeDefault' }, appArmorProfile: { type: 'Localhost', localhostProfile: 'p' }, windowsOptions: { hostProcess: false } };
const podSecurityContext = { runAsUser: 1, fsGroup: 2, supplementalGroups: [3], sysctls: [{ name: 'net.core.somaxconn', value: '1024' }], fsGroupChangePolicy: 'OnRootMismatch', seccompProfile: { type: 'Unconfined' }, seLinuxChangePolicy: 'Recursive' };

test('the whole of Kubernetes\' affinity, security contexts, topology spread and DNS config are accepted', (t) => {
  const valid = pod({
    affinity,
    securityContext: podSecurityContext,
    containers: [{ name: 'c', image: 'busybox', securityContext }],
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'a' } }, minDomains: 2, nodeAffinityPolicy: 'Honor', nodeTaintsPolicy: 'Ignore', matchLabelKeys: ['x'] }],
    dnsConfig: { nameservers: ['1.1.1.1'], searches: ['example.com'], options: [{ name: 'ndots', value: '2' }, { name: 'rotate' }] },
  });
  t.deepEqual(check('Pod', valid), { causes: [], unknownFields: [] });
});

test('a value of the wrong type in an affinity term is Invalid, naming its field', (t) => {
  const terms = (requirement: unknown) => pod({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [requirement] }] } } } });
  t.deepEqual(messages('Pod', terms({ key: 'zone', operator: 'In', values: 'a' })), ['spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: Invalid value: "a": must be of type array']);
  t.deepEqual(messages('Pod', terms({ key: 5, operator: 'In' })), ['spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key: Invalid value: 5: must be of type string']);
  t.deepEqual(messages('Pod', pod({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: 'x' } } } })), ['spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Invalid value: "x": must be of type array']);
  t.deepEqual(messages('Pod', pod({ affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'a' } } }] } } })), ['spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value']);
  t.deepEqual(messages('Pod', pod({ affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: '1', podAffinityTerm: { topologyKey: 'z' } }] } } })), ['spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: "1": must be of type integer']);
  t.deepEqual(messages('Pod', pod({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'k', operator: 'Near' }] }] } } } })),
    ['spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator: Unsupported value: "Near": supported values: "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"']);
});

test('security contexts, topology spread constraints and DNS config are typed', (t) => {
  t.deepEqual(messages('Pod', pod({ containers: [{ name: 'c', image: 'i', securityContext: { capabilities: { add: 'ALL' } } }] })), ['spec.containers[0].securityContext.capabilities.add: Invalid value: "ALL": must be of type array']);
  t.deepEqual(messages('Pod', pod({ securityContext: { sysctls: [{ name: 'a' }] } })), ['spec.securityContext.sysctls[0].value: Required value']);
  t.deepEqual(messages('Pod', pod({ securityContext: { seLinuxOptions: { level: 1 } } })), ['spec.securityContext.seLinuxOptions.level: Invalid value: 1: must be of type string']);
  t.deepEqual(messages('Pod', pod({ topologySpreadConstraints: [{ maxSkew: 'one', topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }] })), ['spec.topologySpreadConstraints[0].maxSkew: Invalid value: "one": must be of type integer']);
  t.deepEqual(messages('Pod', pod({ dnsConfig: { nameservers: '1.1.1.1' } })), ['spec.dnsConfig.nameservers: Invalid value: "1.1.1.1": must be of type array']);
});

test('their enumerations hold the values Kubernetes\' validation supports', (t) => {
  t.deepEqual(messages('Pod', pod({ topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'Sometimes', nodeTaintsPolicy: 'Maybe' }] })), [
    'spec.topologySpreadConstraints[0].whenUnsatisfiable: Unsupported value: "Sometimes": supported values: "DoNotSchedule", "ScheduleAnyway"',
    'spec.topologySpreadConstraints[0].nodeTaintsPolicy: Unsupported value: "Maybe": supported values: "Honor", "Ignore"',
  ]);
  t.deepEqual(messages('Pod', pod({ securityContext: { seccompProfile: { type: 'Strict' }, fsGroupChangePolicy: 'Never' }, containers: [{ name: 'c', image: 'i', securityContext: { procMount: 'All' } }] })).sort(), [
    'spec.containers[0].securityContext.procMount: Unsupported value: "All": supported values: "Default", "Unmasked"',
    'spec.securityContext.fsGroupChangePolicy: Unsupported value: "Never": supported values: "OnRootMismatch", "Always"',
    'spec.securityContext.seccompProfile.type: Unsupported value: "Strict": supported values: "Localhost", "RuntimeDefault", "Unconfined"',
  ]);
});

test('unknown fields in those parts are unknown fields (refused under Strict, pruned otherwise)', (t) => {
  const found = check('Pod', pod({
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'k', operator: 'Exists', extra: 1 }] }] } }, extra: 1 },
    securityContext: { extra: 1 },
    containers: [{ name: 'c', image: 'i', securityContext: { seLinuxOptions: { extra: 1 } } }],
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'z', whenUnsatisfiable: 'DoNotSchedule', extra: 1 }],
    dnsConfig: { options: [{ name: 'ndots', extra: 1 }] },
  }));
  t.deepEqual(found.causes, []);
  t.deepEqual(found.unknownFields.sort(), [
    'spec.affinity.extra',
    'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].extra',
    'spec.containers[0].securityContext.seLinuxOptions.extra',
    'spec.dnsConfig.options[0].extra',
    'spec.securityContext.extra',
    'spec.topologySpreadConstraints[0].extra',
  ]);
});

test('Endpoints addresses and ports, and an Event\'s source and series, are typed and closed', (t) => {
  const endpoints = (subset: object) => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'e' }, subsets: [subset] });
  t.deepEqual(messages('Endpoints', endpoints({ addresses: [{ ip: '10.1.0.5', hostname: 5 }], ports: [{ port: 80 }] })), ['subsets[0].addresses[0].hostname: Invalid value: 5: must be of type string']);
  t.deepEqual(messages('Endpoints', endpoints({ addresses: [{ ip: '10.1.0.5', targetRef: 'pod' }] })), ['subsets[0].addresses[0].targetRef: Invalid value: "pod": must be of type object']);
  t.deepEqual(messages('Endpoints', endpoints({ notReadyAddresses: [{ hostname: 'h' }] })), ['subsets[0].notReadyAddresses[0].ip: Required value']);
  t.deepEqual(check('Endpoints', endpoints({ addresses: [{ ip: '10.1.0.5', extra: 1 }], ports: [{ port: 80, extra: 1 }], extra: 1 })).unknownFields.sort(), ['subsets[0].addresses[0].extra', 'subsets[0].extra', 'subsets[0].ports[0].extra']);
  const event = (extra: object) => ({ apiVersion: 'v1', kind: 'Event', metadata: { name: 'ev' }, involvedObject: { kind: 'Pod', name: 'p' }, ...extra });
  t.deepEqual(messages('Event', event({ source: { component: 5 } })), ['source.component: Invalid value: 5: must be of type string']);
  t.deepEqual(messages('Event', event({ series: { count: 'two' } })), ['series.count: Invalid value: "two": must be of type integer']);
  t.deepEqual(check('Event', event({ source: { extra: 1 }, series: { count: 1, extra: 1 } })).unknownFields.sort(), ['series.extra', 'source.extra']);
});
