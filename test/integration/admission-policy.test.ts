// ValidatingAdmissionPolicy end to end with the real kubectl: a policy refusing Deployments with
// more than 3 replicas, bound with Deny (kubectl apply refused in Kubernetes' words, on every API
// server) and with Warn (kubectl prints the warning); a policy taking its limit from a ConfigMap
// (paramKind, paramRef); a policy whose expression does not compile is refused when written.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.ts';
import { kubectlAssertions, kubectlRunner } from '../helpers/kubectl.ts';

const work = mkdtempSync(join(tmpdir(), 'wharf-vap-'));
let cluster: Cluster;
const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig }));
const { ok, fails } = kubectlAssertions(kubectl);

function file(name: string, yaml: string): string {
  const path = join(work, name);
  writeFileSync(path, yaml);
  return path;
}

test.before(async () => {
  cluster = await startCluster({ apiServers: 2, schedulers: 0, controllerManagers: 1 });
});

test.after.always(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

const POLICY = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: max-replicas.example.com
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - apiGroups: [apps]
        apiVersions: [v1]
        operations: [CREATE, UPDATE]
        resources: [deployments]
  variables:
    - name: limit
      expression: "3"
  validations:
    - expression: "object.spec.replicas <= variables.limit"
`;

const binding = (actions: string, selector = '') => `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: max-replicas-binding.example.com
spec:
  policyName: max-replicas.example.com
  validationActions: [${actions}]
${selector}`;

const deployment = (name: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: c, image: busybox:latest, command: [sleep, '3600']}]
`;

test.serial('discovery lists the policy kinds; kubectl explains and prints them', async (t) => {
  const resources = await ok(t, 'api-resources', '--api-group=admissionregistration.k8s.io');
  t.regex(resources, /validatingadmissionpolicies\s+admissionregistration\.k8s\.io\/v1\s+false\s+ValidatingAdmissionPolicy/);
  t.regex(resources, /validatingadmissionpolicybindings\s+admissionregistration\.k8s\.io\/v1\s+false\s+ValidatingAdmissionPolicyBinding/);
  t.regex(await ok(t, 'explain', 'validatingadmissionpolicy.spec'), /KIND:\s+ValidatingAdmissionPolicy[\s\S]*validations/);
});

test.serial('a bound policy with Deny refuses kubectl apply in Kubernetes words, on every API server', async (t) => {
  await ok(t, 'apply', '-f', file('policy.yaml', POLICY));
  await ok(t, 'apply', '-f', file('binding.yaml', binding('Deny')));
  t.regex(await ok(t, 'get', 'validatingadmissionpolicybindings'), /max-replicas-binding\.example\.com\s+max-replicas\.example\.com\s+<unset>/);
  // Every API server follows the binding within moments: the second one refuses too.
  await eventually(async () => (await kubectl(['--server', cluster.apiUrls[1], 'apply', '--dry-run=server', '-f', file('big-probe.yaml', deployment('probe', 5))])).code === 1, { message: 'the second API server enforces the policy' });
  const refused = await fails(t, 'apply', '-f', file('big.yaml', deployment('big', 5)));
  t.regex(refused, /ValidatingAdmissionPolicy 'max-replicas\.example\.com' with binding 'max-replicas-binding\.example\.com' denied request: failed expression: object\.spec\.replicas <= variables\.limit/);
  // kubectl's rendering of the 422 Kubernetes answers (as in Kubernetes' documentation of the feature).
  t.regex(refused, /^The deployments "big" is invalid: : ValidatingAdmissionPolicy /);
  const status = await (await cluster.fetch(`${cluster.apiUrls[0]}/apis/apps/v1/namespaces/default/deployments`, { method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body: deployment('raw', 9) })).json() as any;
  t.like(status, { kind: 'Status', code: 422, reason: 'Invalid' });

  await ok(t, 'apply', '-f', file('small.yaml', deployment('small', 2)));
  t.regex(await fails(t, 'patch', 'deployment', 'small', '-p', '{"spec":{"replicas":4}}'), /denied request: failed expression/);
});

test.serial('Warn lets the write through and kubectl prints the warning', async (t) => {
  await ok(t, 'apply', '-f', file('binding-warn.yaml', binding('Warn, Audit')));
  const r = await eventually(async () => {
    const out = await kubectl(['apply', '-f', file('warned.yaml', deployment('warned', 4))]);
    return out.code === 0 && /Warning:/.test(out.stderr) ? out : undefined;
  }, { message: 'the Warn binding is followed' });
  t.regex(r.stderr, /Warning: Validation failed for ValidatingAdmissionPolicy 'max-replicas\.example\.com' with binding 'max-replicas-binding\.example\.com': failed expression: object\.spec\.replicas <= variables\.limit/);
});

test.serial('a policy takes its limit from a ConfigMap named by the binding\'s paramRef', async (t) => {
  await ok(t, 'delete', 'validatingadmissionpolicybinding', 'max-replicas-binding.example.com');
  const policy = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replica-limit.example.com}
spec:
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}]
  validations:
    - expression: "object.spec.replicas <= int(params.data.maxReplicas)"
      messageExpression: "'at most ' + params.data.maxReplicas + ' replicas in ' + namespaceObject.metadata.name"
      reason: Forbidden
`;
  const paramBinding = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replica-limit-binding.example.com}
spec:
  policyName: replica-limit.example.com
  validationActions: [Deny]
  paramRef: {name: replica-limit, parameterNotFoundAction: Allow}
`;
  await ok(t, 'apply', '-f', file('param-policy.yaml', policy));
  await ok(t, 'apply', '-f', file('param-binding.yaml', paramBinding));
  await ok(t, 'create', 'configmap', 'replica-limit', '--from-literal=maxReplicas=6');
  const refused = await eventually(async () => {
    const r = await kubectl(['apply', '-f', file('seven.yaml', deployment('seven', 7))]);
    return r.code === 1 ? r.stderr : undefined;
  }, { message: 'the parameterised policy is enforced' });
  t.regex(refused, /ValidatingAdmissionPolicy 'replica-limit\.example\.com' with binding 'replica-limit-binding\.example\.com' denied request: at most 6 replicas in default/);
  t.regex(refused, /Error from server \(Forbidden\): error when creating ".*seven\.yaml": deployments\.apps "seven" is forbidden: /);
  await ok(t, 'apply', '-f', file('six.yaml', deployment('six', 6)));
  // No ConfigMap in another namespace: parameterNotFoundAction Allow lets the write through.
  await ok(t, 'create', 'namespace', 'other');
  await ok(t, 'apply', '-n', 'other', '-f', file('seven-other.yaml', deployment('seven', 7)));
});

test.serial('a policy whose expressions do not compile, or a binding with both Deny and Warn, is refused', async (t) => {
  const broken = POLICY.replace('max-replicas.example.com', 'broken.example.com').replace('"object.spec.replicas <= variables.limit"', '"object.spec.replicas <="');
  t.regex(await fails(t, 'apply', '-f', file('broken.yaml', broken)), /spec\.validations\[0\]\.expression: Invalid value: "object\.spec\.replicas <=": compilation failed: ERROR: <input>:1:/);
  const notBool = POLICY.replace('max-replicas.example.com', 'not-bool.example.com').replace('"object.spec.replicas <= variables.limit"', '"size(object.metadata.name)"');
  t.regex(await fails(t, 'apply', '-f', file('not-bool.yaml', notBool)), /spec\.validations\[0\]\.expression: Invalid value: "size\(object\.metadata\.name\)": cel expression must evaluate to a bool/);
  t.regex(await fails(t, 'apply', '-f', file('both.yaml', binding('Deny, Warn'))), /must not contain both Deny and Warn/);
});
