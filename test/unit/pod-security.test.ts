// The Pod Security Standards, check by check, with Kubernetes' (pod-security-admission v1.32)
// reasons and details word for word.
import test from 'ava';
import {
  evaluatePod,
  existingPodWarnings,
  exemptNamespaceWarning,
  forbiddenDetail,
  formatLevelVersion,
  policyFromLabels,
  podTemplateOf,
  type LevelVersion,
  type PodSecurityPolicy,
  type Violation,
} from '../../shared/api/pod-security.ts';
import { loadConfig, ConfigError } from '../../shared/config.ts';

const BASELINE: LevelVersion = { level: 'baseline', version: 'latest' };
const RESTRICTED: LevelVersion = { level: 'restricted', version: 'latest' };
const PRIVILEGED: LevelVersion = { level: 'privileged', version: 'latest' };

/** A pod spec that passes restricted: every later case changes one thing. */
function restrictedSpec(extra: Record<string, any> = {}): Record<string, any> {
  return {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'c', image: 'busybox', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
    ...extra,
  };
}

const only = (lv: LevelVersion, spec: Record<string, any>, annotations?: Record<string, string>): Violation[] => evaluatePod(lv, { annotations }, spec);

test('the message of the issue: host namespaces, hostPath and privileged, in Kubernetes order and words', (t) => {
  const spec = {
    hostNetwork: true,
    volumes: [{ name: 'root', hostPath: { path: '/' } }],
    containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }],
  };
  t.is(forbiddenDetail(only(BASELINE, spec)), 'host namespaces (hostNetwork=true), hostPath volumes (volume "root"), privileged (container "c" must not set securityContext.privileged=true)');
});

test('privileged allows everything; an empty pod passes baseline', (t) => {
  t.deepEqual(only(PRIVILEGED, { hostPID: true, containers: [{ name: 'c', securityContext: { privileged: true } }] }), []);
  t.deepEqual(only(BASELINE, { containers: [{ name: 'c', image: 'busybox' }] }), []);
  t.deepEqual(only(RESTRICTED, restrictedSpec()), []);
});

test('host namespaces: each of hostNetwork, hostPID, hostIPC', (t) => {
  t.deepEqual(only(BASELINE, { hostNetwork: true, hostPID: true, hostIPC: true, containers: [] }), [{ reason: 'host namespaces', detail: 'hostNetwork=true, hostPID=true, hostIPC=true' }]);
  t.deepEqual(only(BASELINE, { hostPID: true, hostNetwork: false, containers: [] }), [{ reason: 'host namespaces', detail: 'hostPID=true' }]);
});

test('hostProcess: pod and containers', (t) => {
  const spec = {
    securityContext: { windowsOptions: { hostProcess: true } },
    containers: [{ name: 'a', securityContext: { windowsOptions: { hostProcess: true } } }, { name: 'b', securityContext: { windowsOptions: { hostProcess: false } } }],
  };
  t.deepEqual(only(BASELINE, spec), [{ reason: 'hostProcess', detail: 'pod and container "a" must not set securityContext.windowsOptions.hostProcess=true' }]);
});

test('privileged: init, app and ephemeral containers, in that order', (t) => {
  const spec = {
    initContainers: [{ name: 'i', securityContext: { privileged: true } }],
    containers: [{ name: 'a', securityContext: { privileged: true } }, { name: 'b', securityContext: { privileged: false } }],
    ephemeralContainers: [{ name: 'e', securityContext: { privileged: true } }],
  };
  t.deepEqual(only(BASELINE, spec), [{ reason: 'privileged', detail: 'containers "i", "a", "e" must not set securityContext.privileged=true' }]);
});

test('baseline capabilities: the default set may be added, anything else (NET_ADMIN, NET_RAW, CAP_-prefixed) not', (t) => {
  t.deepEqual(only(BASELINE, { containers: [{ name: 'a', securityContext: { capabilities: { add: ['CHOWN', 'NET_BIND_SERVICE', 'KILL'] } } }] }), []);
  const spec = {
    containers: [
      { name: 'a', securityContext: { capabilities: { add: ['NET_ADMIN'] } } },
      { name: 'b', securityContext: { capabilities: { add: ['SYS_ADMIN', 'NET_ADMIN', 'CHOWN'] } } },
      { name: 'c', securityContext: { capabilities: { add: ['CAP_CHOWN'] } } },
    ],
  };
  t.deepEqual(only(BASELINE, spec), [{ reason: 'non-default capabilities', detail: 'containers "a", "b", "c" must not include "CAP_CHOWN", "NET_ADMIN", "SYS_ADMIN" in securityContext.capabilities.add' }]);
});

test('hostPath volumes: one, several', (t) => {
  t.deepEqual(only(BASELINE, { volumes: [{ name: 'sock', hostPath: { path: '/var/run/docker.sock' } }, { name: 'e', emptyDir: {} }], containers: [] }), [{ reason: 'hostPath volumes', detail: 'volume "sock"' }]);
  t.deepEqual(only(BASELINE, { volumes: [{ name: 'a', hostPath: { path: '/' } }, { name: 'b', hostPath: { path: '/etc' } }], containers: [] }), [{ reason: 'hostPath volumes', detail: 'volumes "a", "b"' }]);
});

test('host ports: Kubernetes\' own examples', (t) => {
  t.deepEqual(only(BASELINE, { containers: [{ name: 'a', ports: [{ containerPort: 80 }] }, { name: 'b', ports: [{ containerPort: 80, hostPort: 20 }] }] }), [{ reason: 'hostPort', detail: 'container "b" uses hostPort 20' }]);
  const spec = {
    containers: [
      { name: 'a', ports: [{ containerPort: 80, hostPort: 0 }] },
      { name: 'b', ports: [{ containerPort: 80, hostPort: 10 }, { containerPort: 81, hostPort: 20 }] },
      { name: 'c', ports: [{ containerPort: 80, hostPort: 30 }, { containerPort: 82, hostPort: 10 }] },
    ],
  };
  t.deepEqual(only(BASELINE, spec), [{ reason: 'hostPort', detail: 'containers "b", "c" use hostPorts 10, 20, 30' }]);
});

test('AppArmor: Unconfined pod, container and annotations are forbidden; RuntimeDefault and Localhost are not', (t) => {
  t.deepEqual(only(BASELINE, { securityContext: { appArmorProfile: { type: 'RuntimeDefault' } }, containers: [{ name: 'c', securityContext: { appArmorProfile: { type: 'Localhost', localhostProfile: 'p' } } }] }), []);
  t.deepEqual(only(BASELINE, { securityContext: { appArmorProfile: { type: 'Unconfined' } }, containers: [] }), [{ reason: 'forbidden AppArmor profile', detail: 'pod must not set AppArmor profile type to "Unconfined"' }]);
  t.deepEqual(only(BASELINE, { containers: [{ name: 'foo', securityContext: { appArmorProfile: { type: 'Unconfined' } } }] }), [{ reason: 'forbidden AppArmor profile', detail: 'container "foo" must not set AppArmor profile type to "Unconfined"' }]);
  const annotations = {
    'container.apparmor.security.beta.kubernetes.io/a': 'unconfined',
    'container.apparmor.security.beta.kubernetes.io/b': 'runtime/default',
    'container.apparmor.security.beta.kubernetes.io/c': 'localhost/x',
    'container.apparmor.security.beta.kubernetes.io/d': 'other',
  };
  t.deepEqual(only(BASELINE, { containers: [] }, annotations), [{
    reason: 'forbidden AppArmor profiles',
    // Kubernetes quotes the list items without escaping the quotes inside them.
    detail: 'annotations must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/a="unconfined"", "container.apparmor.security.beta.kubernetes.io/d="other""',
  }]);
});

test('SELinux: Kubernetes\' own example, and container_engine_t allowed from v1.31', (t) => {
  const spec = {
    securityContext: { seLinuxOptions: { type: 'foo', user: 'u', role: 'r' } },
    containers: [
      { name: 'd', securityContext: { seLinuxOptions: { type: 'container_t' } } },
      { name: 'e', securityContext: { seLinuxOptions: { type: 'bar' } } },
      { name: 'f', securityContext: { seLinuxOptions: { user: 'u' } } },
      { name: 'g', securityContext: { seLinuxOptions: { role: 'r' } } },
    ],
  };
  t.deepEqual(only(BASELINE, spec), [{ reason: 'seLinuxOptions', detail: 'pod and containers "e", "f", "g" set forbidden securityContext.seLinuxOptions: types "bar", "foo"; user may not be set; role may not be set' }]);
  const engine = { securityContext: { seLinuxOptions: { type: 'container_engine_t' } }, containers: [] };
  t.deepEqual(only(BASELINE, engine), []);
  t.deepEqual(only({ level: 'baseline', version: 30 }, engine), [{ reason: 'seLinuxOptions', detail: 'pod set forbidden securityContext.seLinuxOptions: type "container_engine_t"' }]);
});

test('procMount: only Default', (t) => {
  t.deepEqual(only(BASELINE, { containers: [{ name: 'a', securityContext: { procMount: 'Default' } }, { name: 'b', securityContext: { procMount: 'Unmasked' } }] }), [{ reason: 'procMount', detail: 'container "b" must not set securityContext.procMount to "Unmasked"' }]);
});

test('seccomp under baseline: Unconfined is forbidden, unset is fine; before v1.19 the annotations', (t) => {
  t.deepEqual(only(BASELINE, { containers: [{ name: 'a' }] }), []);
  const spec = { securityContext: { seccompProfile: { type: 'Unconfined' } }, containers: [{ name: 'a', securityContext: { seccompProfile: { type: 'Unconfined' } } }, { name: 'b', securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }] };
  t.deepEqual(only(BASELINE, spec), [{ reason: 'seccompProfile', detail: 'pod and container "a" must not set securityContext.seccompProfile.type to "Unconfined"' }]);
  const annotations = { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined', 'container.seccomp.security.alpha.kubernetes.io/a': 'docker/default' };
  t.deepEqual(only({ level: 'baseline', version: 18 }, { containers: [{ name: 'a' }] }, annotations), [{ reason: 'seccompProfile', detail: 'forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined"' }]);
  t.deepEqual(only({ level: 'baseline', version: 18 }, spec), [], 'v1.18 did not look at the field');
});

test('sysctls: the safe set of the version', (t) => {
  const spec = { securityContext: { sysctls: [{ name: 'net.ipv4.tcp_rmem', value: '1' }, { name: 'net.core.somaxconn', value: '1' }, { name: 'kernel.shm_rmid_forced', value: '1' }] }, containers: [] };
  t.deepEqual(only(BASELINE, spec), [{ reason: 'forbidden sysctls', detail: 'net.core.somaxconn' }]);
  t.deepEqual(only({ level: 'baseline', version: 31 }, spec), [{ reason: 'forbidden sysctls', detail: 'net.ipv4.tcp_rmem, net.core.somaxconn' }]);
  t.deepEqual(only({ level: 'baseline', version: 29 }, { securityContext: { sysctls: [{ name: 'net.ipv4.tcp_keepalive_time', value: '1' }] }, containers: [] }), []);
  t.deepEqual(only({ level: 'baseline', version: 28 }, { securityContext: { sysctls: [{ name: 'net.ipv4.tcp_keepalive_time', value: '1' }] }, containers: [] }), [{ reason: 'forbidden sysctls', detail: 'net.ipv4.tcp_keepalive_time' }]);
});

test('restricted: volume types, replacing the hostPath check', (t) => {
  const spec = restrictedSpec({
    volumes: [
      { name: 'a', emptyDir: {} }, { name: 'b', configMap: { name: 'x' } }, { name: 'c', secret: { secretName: 'x' } }, { name: 'd', projected: {} },
      { name: 'e', hostPath: { path: '/' } }, { name: 'f', nfs: { server: 's', path: '/' } }, { name: 'g', gitRepo: { repository: 'r' } }, { name: 'h' },
    ],
  });
  t.deepEqual(only(RESTRICTED, spec), [{ reason: 'restricted volume types', detail: 'volumes "e", "f", "g", "h" use restricted volume types "gitRepo", "hostPath", "nfs", "unknown"' }]);
  t.deepEqual(only(RESTRICTED, restrictedSpec({ volumes: [{ name: 'root', hostPath: { path: '/' } }] })), [{ reason: 'restricted volume types', detail: 'volume "root" uses restricted volume type "hostPath"' }]);
});

test('restricted: allowPrivilegeEscalation must be false', (t) => {
  const spec = restrictedSpec();
  spec.containers.push({ name: 'd', securityContext: { capabilities: { drop: ['ALL'] } } }, { name: 'e', securityContext: { allowPrivilegeEscalation: true, capabilities: { drop: ['ALL'] } } });
  t.deepEqual(only(RESTRICTED, spec), [{ reason: 'allowPrivilegeEscalation != false', detail: 'containers "d", "e" must set securityContext.allowPrivilegeEscalation=false' }]);
  t.deepEqual(only(RESTRICTED, { ...spec, os: { name: 'windows' } }), [], 'windows pods are exempt from v1.25');
  t.is(only({ level: 'restricted', version: 24 }, { ...spec, os: { name: 'windows' } }).length, 1);
});

test('restricted: capabilities drop ALL and add nothing but NET_BIND_SERVICE (Kubernetes\' example)', (t) => {
  const spec = restrictedSpec({
    containers: [
      { name: 'a', securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ['FOO', 'BAR'] } } },
      { name: 'b', securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ['BAR', 'BAZ'], drop: ['NET_RAW'] } } },
      { name: 'c', securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ['NET_BIND_SERVICE', 'CHOWN'], drop: ['ALL', 'SYS_TIME'] } } },
      { name: 'd', securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } } },
    ],
  });
  t.deepEqual(only(RESTRICTED, spec), [{ reason: 'unrestricted capabilities', detail: 'containers "a", "b" must set securityContext.capabilities.drop=["ALL"]; containers "a", "b", "c" must not include "BAR", "BAZ", "CHOWN", "FOO" in securityContext.capabilities.add' }]);
  const noContext = restrictedSpec({ containers: [{ name: 'a', securityContext: { allowPrivilegeEscalation: false } }] });
  t.deepEqual(only(RESTRICTED, noContext), [{ reason: 'unrestricted capabilities', detail: 'container "a" must set securityContext.capabilities.drop=["ALL"]' }]);
  t.deepEqual(only({ level: 'restricted', version: 21 }, noContext), [], 'before v1.22 restricted only had the baseline capabilities check');
});

test('restricted: runAsNonRoot from the pod or every container', (t) => {
  const base = restrictedSpec();
  delete base.securityContext.runAsNonRoot;
  t.deepEqual(only(RESTRICTED, base), [{ reason: 'runAsNonRoot != true', detail: 'pod or container "c" must set securityContext.runAsNonRoot=true' }]);
  base.containers[0].securityContext.runAsNonRoot = true;
  t.deepEqual(only(RESTRICTED, base), []);
  const explicit = restrictedSpec();
  explicit.securityContext.runAsNonRoot = false;
  explicit.containers[0].securityContext.runAsNonRoot = false;
  t.deepEqual(only(RESTRICTED, explicit), [{ reason: 'runAsNonRoot != true', detail: 'pod and container "c" must not set securityContext.runAsNonRoot=false' }]);
});

test('restricted: runAsUser 0 (from v1.23)', (t) => {
  const spec = restrictedSpec();
  spec.securityContext.runAsUser = 0;
  spec.containers[0].securityContext.runAsUser = 0;
  t.deepEqual(only(RESTRICTED, spec), [{ reason: 'runAsUser=0', detail: 'pod and container "c" must not set runAsUser=0' }]);
  t.deepEqual(only({ level: 'restricted', version: 22 }, spec), []);
  spec.securityContext.runAsUser = 1000;
  spec.containers[0].securityContext.runAsUser = 1000;
  t.deepEqual(only(RESTRICTED, spec), []);
});

test('restricted: a seccomp profile must be set, RuntimeDefault or Localhost', (t) => {
  const unset = restrictedSpec();
  delete unset.securityContext.seccompProfile;
  t.deepEqual(only(RESTRICTED, unset), [{ reason: 'seccompProfile', detail: 'pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"' }]);
  unset.containers[0].securityContext.seccompProfile = { type: 'Localhost', localhostProfile: 'p.json' };
  t.deepEqual(only(RESTRICTED, unset), []);
  const bad = restrictedSpec();
  bad.containers[0].securityContext.seccompProfile = { type: 'Unconfined' };
  t.deepEqual(only(RESTRICTED, bad), [{ reason: 'seccompProfile', detail: 'container "c" must not set securityContext.seccompProfile.type to "Unconfined"' }], 'replaces the baseline seccomp check: one violation, not two');
});

test('restricted includes the baseline checks, baseline first, each in id order', (t) => {
  const spec = restrictedSpec({ hostPID: true });
  spec.containers[0].securityContext = { privileged: true };
  t.deepEqual(only(RESTRICTED, spec).map((v) => v.reason), ['host namespaces', 'privileged', 'allowPrivilegeEscalation != false', 'unrestricted capabilities']);
  t.deepEqual(only(BASELINE, spec).map((v) => v.reason), ['host namespaces', 'privileged']);
});

const DEFAULTS: PodSecurityPolicy = { enforce: BASELINE, audit: PRIVILEGED, warn: BASELINE };

test('namespace labels: levels, versions, defaults and the warn level following enforce', (t) => {
  t.deepEqual(policyFromLabels(undefined, DEFAULTS), { policy: DEFAULTS, errors: [] });
  const { policy, errors } = policyFromLabels({ 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'v1.25' }, DEFAULTS);
  t.deepEqual(errors, []);
  t.deepEqual(policy.enforce, { level: 'restricted', version: 25 });
  t.deepEqual(policy.warn, { level: 'restricted', version: 25 }, 'warn is raised to a stricter enforce label');
  t.is(formatLevelVersion(policy.enforce), 'restricted:v1.25');
  const privileged = policyFromLabels({ 'pod-security.kubernetes.io/enforce': 'privileged' }, DEFAULTS).policy;
  t.deepEqual(privileged.warn, BASELINE, 'a laxer enforce label leaves the default warn level');
  const warnOnly = policyFromLabels({ 'pod-security.kubernetes.io/warn': 'restricted' }, DEFAULTS).policy;
  t.deepEqual([warnOnly.enforce, warnOnly.warn], [BASELINE, RESTRICTED]);
});

test('namespace labels: invalid values are errors naming the label; enforce fails closed, warn open', (t) => {
  const { policy, errors } = policyFromLabels({
    'pod-security.kubernetes.io/enforce': 'strict',
    'pod-security.kubernetes.io/warn': 'loud',
    'pod-security.kubernetes.io/audit-version': 'v2.0',
  }, DEFAULTS);
  t.deepEqual(errors.map((e) => `${e.field}: ${e.message}`), [
    'metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted',
    'metadata.labels[pod-security.kubernetes.io/audit-version]: Invalid value: "v2.0": must be "latest" or "v1.x"',
    'metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "loud": must be one of privileged, baseline, restricted',
  ]);
  t.is(policy.enforce.level, 'restricted');
  t.is(policy.warn.level, 'privileged');
  t.is(policyFromLabels({ 'pod-security.kubernetes.io/enforce-version': 'v1.01' }, DEFAULTS).errors.length, 1, 'no leading zeros');
});

test('raising a namespace\'s level: its pods grouped by reasons, one per controller first', (t) => {
  const pod = (name: string, spec: Record<string, any>, controller?: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ns', ...(controller ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: controller, uid: controller, controller: true }] } : {}) },
    spec,
  });
  const hostNet = { hostNetwork: true, containers: [{ name: 'c' }] };
  const pods = [
    pod('web-b', hostNet, 'rs1'), pod('web-a', hostNet, 'rs1'), pod('web-c', hostNet, 'rs1'),
    pod('solo', { volumes: [{ name: 'v', hostPath: { path: '/' } }], containers: [{ name: 'c' }] }),
    pod('fine', { containers: [{ name: 'c' }] }),
  ];
  t.deepEqual(existingPodWarnings('ns', BASELINE, pods), [
    'existing pods in namespace "ns" violate the new PodSecurity enforce level "baseline:latest"',
    'solo: hostPath volumes',
    'web-a (and 2 other pods): host namespaces',
  ]);
  t.deepEqual(existingPodWarnings('ns', BASELINE, pods, 2), [
    'new PodSecurity enforce level only checked against the first 2 of 5 existing pods',
    'existing pods in namespace "ns" violate the new PodSecurity enforce level "baseline:latest"',
    'solo: hostPath volumes',
    'web-b: host namespaces',
  ]);
  t.deepEqual(existingPodWarnings('ns', BASELINE, [pod('fine', { containers: [{ name: 'c' }] })]), []);
});

test('labels on an exempt namespace are ignored, with a warning', (t) => {
  const labels = { 'pod-security.kubernetes.io/enforce': 'restricted' };
  const policy = policyFromLabels(labels, DEFAULTS).policy;
  t.is(exemptNamespaceWarning('kube-system', policy, DEFAULTS, labels), 'namespace "kube-system" is exempt from Pod Security, and the policy (enforce=restricted:latest) will be ignored');
  const both = { ...labels, 'pod-security.kubernetes.io/warn': 'restricted' };
  t.is(exemptNamespaceWarning('kube-system', policyFromLabels(both, DEFAULTS).policy, DEFAULTS, both), 'namespace "kube-system" is exempt from Pod Security, and the policy (enforce=restricted:latest, warn=restricted:latest) will be ignored');
  t.is(exemptNamespaceWarning('kube-system', DEFAULTS, DEFAULTS, {}), undefined);
});

test('the pod templates of workload kinds', (t) => {
  const template = { metadata: { labels: { a: 'b' } }, spec: { hostPID: true, containers: [] } };
  t.deepEqual(podTemplateOf('Deployment', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: {}, spec: { template } })?.spec, template.spec);
  t.deepEqual(podTemplateOf('CronJob', { apiVersion: 'batch/v1', kind: 'CronJob', metadata: {}, spec: { jobTemplate: { spec: { template } } } })?.spec, template.spec);
  t.is(podTemplateOf('Deployment', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: {}, spec: {} }), undefined);
});

test('config: baseline enforced by default, warn following enforce, kube-system always exempt', (t) => {
  t.deepEqual(loadConfig({}).admission.podSecurity, { defaults: DEFAULTS, exemptNamespaces: ['kube-system'] });
  const c = loadConfig({ WHARF_POD_SECURITY_ENFORCE: 'restricted', WHARF_POD_SECURITY_ENFORCE_VERSION: 'v1.30', WHARF_POD_SECURITY_EXEMPT_NAMESPACES: 'ops, kube-system' }).admission.podSecurity;
  t.deepEqual(c.defaults.enforce, { level: 'restricted', version: 30 });
  t.deepEqual(c.defaults.warn, { level: 'restricted', version: 30 });
  t.deepEqual(c.exemptNamespaces, ['kube-system', 'ops']);
  t.deepEqual(loadConfig({ WHARF_POD_SECURITY_WARN: 'restricted' }).admission.podSecurity.defaults.warn, RESTRICTED);
  t.throws(() => loadConfig({ WHARF_POD_SECURITY_ENFORCE: 'strict' }), { instanceOf: ConfigError });
  t.throws(() => loadConfig({ WHARF_POD_SECURITY_ENFORCE_VERSION: '1.30' }), { instanceOf: ConfigError });
});
