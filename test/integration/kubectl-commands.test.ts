// The everyday kubectl workflow beyond the first hour, driven with the real kubectl binary against
// simulated nodes: get (every kind, every output format, selectors), describe, create / replace /
// apply (client- and server-side, dry-run, strict validation), delete (cascades, grace, wait),
// edit, patch, label, annotate, scale, rollout, cordon / drain, and errors as kubectl prints them.
import test from 'ava';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, eventually, type Cluster } from '../helpers/cluster.ts';
import { kubectlAssertions, kubectlRunner } from '../helpers/kubectl.ts';

const work = mkdtempSync(join(tmpdir(), 'wharf-kubectl-cmds-'));
let cluster: Cluster;

const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig }));
const { ok, fails } = kubectlAssertions(kubectl);

function file(name: string, text: string): string {
  const path = join(work, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

const lines = (s: string) => s.trim().split('\n').filter(Boolean);

const deployment = (name: string, replicas: number, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {app: ${name}, tier: front}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: web
        image: nginx:1
        ports:
        - containerPort: 80
        env:
        - {name: A, value: "1"}
        - {name: B, value: "2"}
      - name: side
        image: busybox:1
${extra}`;

const SERVICE_AND_CONFIG = `apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 80
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  labels: {app: web, tier: back}
data: {a: "1", b: "2"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: other
  labels: {app: other}
data: {x: "1"}
`;

test.before(async () => {
  cluster = await startCluster({
    agents: [
      { WHARF_NODE_NAME: 'node-a', WHARF_RUNTIME: 'simulated' },
      { WHARF_NODE_NAME: 'node-b', WHARF_RUNTIME: 'simulated' },
    ],
  });
  await cluster.waitForNodes(['node-a', 'node-b']);
});

test.after.always(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

test.serial('apply a directory and a multi-document file; get every kind with its columns', async (t) => {
  file('dir/web.yaml', deployment('web', 2));
  file('dir/svc.yaml', SERVICE_AND_CONFIG);
  const applied = await ok(t, 'apply', '-f', join(work, 'dir'));
  t.regex(applied, /deployment.apps\/web created/);
  t.regex(applied, /service\/web created/);
  t.regex(applied, /configmap\/cfg created/);
  const again = await ok(t, 'apply', '-f', join(work, 'dir'));
  for (const re of [/deployment.apps\/web unchanged/, /service\/web unchanged/, /configmap\/cfg unchanged/, /configmap\/other unchanged/]) t.regex(again, re);
  await ok(t, 'rollout', 'status', 'deployment/web', '--timeout=30s');
  // The Endpoints controller fills the Service's Endpoints with the two ready pods.
  await eventually(async () => {
    const ep = (await cluster.api.get('/api/v1/namespaces/default/endpoints/web')).body;
    return (ep.subsets ?? []).flatMap((s: any) => s.addresses ?? []).length === 2;
  }, { timeoutMs: 15_000, message: 'endpoints of web' });

  const po = await ok(t, 'get', 'pods');
  t.regex(po, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
  t.is(lines(po).filter((l) => /^web-\S+\s+2\/2\s+Running\s+0\s+\d+s$/.test(l)).length, 2, po);
  const svc = await ok(t, 'get', 'svc');
  t.regex(svc, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\n/);
  t.regex(svc, /\nweb\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+80\/TCP\s+\d+s/);
  t.regex(await ok(t, 'get', 'ns'), /^NAME\s+STATUS\s+AGE\n[\s\S]*default\s+Active\s+\d+s[\s\S]*kube-system\s+Active/);
  // default/kubernetes (the API servers) is listed first, as on every cluster.
  t.regex(await ok(t, 'get', 'ep'), /^NAME\s+ENDPOINTS\s+AGE\nkubernetes\s+\S+\s+\d+s\nweb\s+10\.244\.\d+\.\d+:80,10\.244\.\d+\.\d+:80\s+\d+s/);
  t.regex(await ok(t, 'get', 'ev'), /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n[\s\S]*Normal\s+ScalingReplicaSet\s+deployment\/web\s+Scaled up replica set web-\w+ from 0 to 2/);
  t.regex(await ok(t, 'get', 'rs'), /^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\nweb-\w+\s+2\s+2\s+2\s+\d+s/);
  t.regex(await ok(t, 'get', 'cm'), /^NAME\s+DATA\s+AGE\ncfg\s+2\s+\d+s\nkube-root-ca\.crt\s+1\s+\d+s\nother\s+1\s+\d+s/);
  t.regex(await ok(t, 'get', 'no'), /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\nnode-a\s+Ready\s+<none>\s+\d+s\s+v1\.32/);
  t.regex(await ok(t, 'get', 'deploy'), /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+2\/2\s+2\s+2\s+\d+s/);
  const all = await ok(t, 'get', 'all');
  for (const re of [/pod\/web-/, /service\/web\s+ClusterIP/, /deployment.apps\/web\s+2\/2/, /replicaset.apps\/web-/]) t.regex(all, re);
});

test.serial('output formats: yaml, json, jsonpath, name, wide', async (t) => {
  const yaml = await ok(t, 'get', 'deploy', 'web', '-o', 'yaml');
  t.regex(yaml, /^apiVersion: apps\/v1\nkind: Deployment\n/);
  t.regex(yaml, /kubectl.kubernetes.io\/last-applied-configuration/);
  const json = JSON.parse(await ok(t, 'get', 'cm', 'cfg', '-o', 'json'));
  t.deepEqual(json.data, { a: '1', b: '2' });
  t.is(json.kind, 'ConfigMap');
  const list = JSON.parse(await ok(t, 'get', 'svc', '-o', 'json'));
  t.is(list.kind, 'List');
  t.is(list.items[0].spec.clusterIPs[0], list.items[0].spec.clusterIP);
  t.is(await ok(t, 'get', 'no', '-o', 'jsonpath={.items[*].metadata.name}'), 'node-a node-b');
  t.is(await ok(t, 'get', 'cm', '-o', 'name'), 'configmap/cfg\nconfigmap/kube-root-ca.crt\nconfigmap/other\n');
  t.regex(await ok(t, 'get', 'po', '-o', 'wide'), /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\nweb-\S+\s+2\/2\s+Running\s+0\s+\d+s\s+10\.244\.\d+\.\d+\s+node-[ab]\s+<none>\s+<none>/);
  t.regex(await ok(t, 'get', 'deploy', '-o', 'wide'), /CONTAINERS\s+IMAGES\s+SELECTOR\nweb\s+.*web,side\s+nginx:1,busybox:1\s+app=web/);
  t.regex(await ok(t, 'get', 'svc', '-o', 'wide'), /SELECTOR\nkubernetes\s+ClusterIP\s+.*<none>\nweb\s+.*app=web/);
});

test.serial('selectors, namespaces, labels, sorting, short names', async (t) => {
  t.is(await ok(t, 'get', 'cm', '-l', 'app=web', '-o', 'name'), 'configmap/cfg\n');
  t.is(await ok(t, 'get', 'cm', '-l', 'app!=web', '-o', 'name'), 'configmap/kube-root-ca.crt\nconfigmap/other\n');
  t.is(await ok(t, 'get', 'cm,deploy', '-l', 'tier in (back,front)', '-o', 'name'), 'configmap/cfg\ndeployment.apps/web\n');
  t.is(await ok(t, 'get', 'cm,deploy', '-l', 'tier notin (back)', '-o', 'name'), 'configmap/kube-root-ca.crt\nconfigmap/other\ndeployment.apps/web\n');
  t.is(await ok(t, 'get', 'cm', '-l', '!tier', '-o', 'name'), 'configmap/kube-root-ca.crt\nconfigmap/other\n');
  const none = await kubectl(['get', 'cm', '-l', 'app=nothing']);
  t.is(none.code, 0);
  t.regex(none.stderr, /No resources found in default namespace\./);
  const onA = await ok(t, 'get', 'po', '--field-selector', 'spec.nodeName=node-a', '-o', 'name');
  const onB = await ok(t, 'get', 'po', '--field-selector', 'spec.nodeName!=node-a', '-o', 'name');
  t.is(lines(onA).length + lines(onB).length, 2);
  t.regex(await ok(t, 'get', 'ns', '--field-selector', 'metadata.name=default'), /^NAME\s+STATUS\s+AGE\ndefault\s+Active\s+\S+\n$/);
  const bad = await kubectl(['get', 'po', '--field-selector', 'spec.image=x']);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /field label not supported: spec.image/);
  // `kubectl create namespace` itself is tested in kubectl-create.test.ts.
  await ok(t, 'create', 'namespace', 'team-b');
  file('team-b.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: aaa, namespace: team-b}\ndata: {}\n');
  await ok(t, 'apply', '-f', join(work, 'team-b.yaml'));
  // A new namespace gets its kube-root-ca.crt from the root CA publisher, as on Kubernetes.
  await eventually(async () => (await cluster.api.get('/api/v1/namespaces/team-b/configmaps/kube-root-ca.crt')).status === 200, { message: 'team-b/kube-root-ca.crt' });
  t.is(await ok(t, 'get', 'cm', '-n', 'team-b', '-o', 'name'), 'configmap/aaa\nconfigmap/kube-root-ca.crt\n');
  const everywhere = await ok(t, 'get', 'cm', '-A', '--sort-by=.metadata.name');
  t.regex(everywhere, /^NAMESPACE\s+NAME\s+DATA\s+AGE\nteam-b\s+aaa\s+0\s+\S+\ndefault\s+cfg\s+2\s+\S+\n(\S+\s+kube-root-ca\.crt\s+1\s+\S+\n){5}default\s+other\s+1/);
  t.regex(await ok(t, 'get', 'cm', '--show-labels'), /^NAME\s+DATA\s+AGE\s+LABELS\ncfg\s+2\s+\S+\s+app=web,tier=back\n/);
  t.regex(await ok(t, 'get', 'ns', '--sort-by=.metadata.name', '-o', 'name'), /^namespace\/default\nnamespace\/kube-node-lease\nnamespace\/kube-public\nnamespace\/kube-system\nnamespace\/team-b\n$/);
  for (const short of ['po', 'deploy', 'rs', 'svc', 'ns', 'no', 'ep', 'ev', 'cm']) {
    const r = await kubectl(['get', short]);
    t.is(r.code, 0, `get ${short}: ${r.stderr}`);
    t.regex(r.stdout, /^(NAME|LAST SEEN)\s/, `get ${short}`);
  }
});

test.serial('describe pod, deployment, node, namespace, service', async (t) => {
  const pod = (await ok(t, 'get', 'po', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
  const dp = await ok(t, 'describe', 'pod', pod);
  t.regex(dp, new RegExp(`^Name:\\s+${pod}\\nNamespace:\\s+default\\n`));
  t.regex(dp, /Controlled By:\s+ReplicaSet\/web-/);
  t.regex(dp, /Containers:\n\s+web:[\s\S]*Environment:\n\s+A:\s+1\n\s+B:\s+2/);
  t.regex(dp, /Events:[\s\S]*Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\//);
  const dd = await ok(t, 'describe', 'deploy', 'web');
  t.regex(dd, /Replicas:\s+2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable/);
  t.regex(dd, /NewReplicaSet:\s+web-\w+ \(2\/2 replicas created\)/);
  t.regex(dd, /ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled up replica set/);
  const dn = await ok(t, 'describe', 'node', 'node-a');
  t.regex(dn, /^Name:\s+node-a\n/);
  t.regex(dn, /Ready\s+True/);
  t.regex(dn, /Non-terminated Pods:\s+\(\d+ in total\)/);
  t.regex(await ok(t, 'describe', 'ns', 'default'), /^Name:\s+default\nLabels:\s+kubernetes.io\/metadata.name=default\n[\s\S]*Status:\s+Active/);
  const ds = await ok(t, 'describe', 'svc', 'web');
  t.regex(ds, /Type:\s+ClusterIP\n/);
  t.regex(ds, /IP:\s+10\.\d+\.\d+\.\d+\n/);
  // kubectl 1.32 reads this line from the Service's EndpointSlices (discovery.k8s.io).
  t.regex(ds, /\nEndpoints:\s+10\.244\.\d+\.\d+:80,10\.244\.\d+\.\d+:80\n/);
});

test.serial('create -f, replace -f, AlreadyExists, NotFound, Invalid, unknown resource type', async (t) => {
  const cm = file('created.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: created}\ndata: {k: v}\n');
  t.is(await ok(t, 'create', '-f', cm), 'configmap/created created\n');
  t.is(await fails(t, 'create', '-f', cm), `Error from server (AlreadyExists): error when creating "${cm}": configmaps "created" already exists\n`);
  file('created.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: created}\ndata: {k: replaced}\n');
  t.is(await ok(t, 'replace', '-f', cm), 'configmap/created replaced\n');
  t.is(await ok(t, 'get', 'cm', 'created', '-o', 'jsonpath={.data.k}'), 'replaced');
  // A replaced Service keeps its allocated address.
  const ip = await ok(t, 'get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}');
  const svc = JSON.parse(await ok(t, 'get', 'svc', 'web', '-o', 'json'));
  delete svc.spec.clusterIP;
  delete svc.spec.clusterIPs;
  delete svc.metadata.resourceVersion;
  svc.metadata.labels.replaced = 'yes';
  t.is(await ok(t, 'replace', '-f', file('svc-replace.json', JSON.stringify(svc))), 'service/web replaced\n');
  t.is(await ok(t, 'get', 'svc', 'web', '-o', 'jsonpath={.metadata.labels.replaced}'), 'yes');
  const moved = { ...svc, spec: { ...svc.spec, clusterIP: '10.96.0.7' } };
  t.regex(await fails(t, 'replace', '-f', file('svc-move.json', JSON.stringify(moved))), /The Service "web" is invalid: spec.clusterIPs?(\[0\])?: Invalid value: "10.96.0.7": (may not change once set|field is immutable)/);
  t.is(await ok(t, 'get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'), ip);
  t.is(await fails(t, 'get', 'deployment', 'nope'), 'Error from server (NotFound): deployments.apps "nope" not found\n');
  t.is(await fails(t, 'get', 'po', 'nope'), 'Error from server (NotFound): pods "nope" not found\n');
  t.is(await fails(t, 'delete', 'cm', 'nope'), 'Error from server (NotFound): configmaps "nope" not found\n');
  t.is(await fails(t, 'get', 'widgets'), 'error: the server doesn\'t have a resource type "widgets"\n');
  const bad = file('invalid.yaml', deployment('bad', -1));
  t.regex(await fails(t, 'create', '-f', bad), /^The Deployment "bad" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0\n$/);
  t.is((await kubectl(['get', 'deploy', 'bad'])).code, 1, 'nothing stored');
  t.regex(await fails(t, 'create', '-f', cm, '-n', 'no-such-ns'), /Error from server \(NotFound\): error when creating ".*": namespaces "no-such-ns" not found/);
});

test.serial('apply updates by strategic merge; unchanged; server-side; dry-run; strict validation', async (t) => {
  // Change one container of two, remove an env var, add a port.
  const changed = deployment('web', 2)
    .replace('image: nginx:1', 'image: nginx:2')
    .replace('        - {name: B, value: "2"}\n', '')
    .replace('        - containerPort: 80\n', '        - containerPort: 80\n        - containerPort: 443\n');
  t.is(await ok(t, 'apply', '-f', file('dir/web.yaml', changed)), 'deployment.apps/web configured\n');
  const containers = JSON.parse(await ok(t, 'get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers}'));
  t.is(containers.length, 2);
  t.is(containers[0].image, 'nginx:2');
  t.deepEqual(containers[0].env, [{ name: 'A', value: '1' }]);
  t.deepEqual(containers[0].ports.map((p: any) => p.containerPort), [80, 443]);
  t.is(containers[1].image, 'busybox:1');
  t.is(await ok(t, 'apply', '-f', join(work, 'dir', 'web.yaml')), 'deployment.apps/web unchanged\n');
  await ok(t, 'rollout', 'status', 'deployment/web', '--timeout=30s');

  const ss = file('ss.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ss, labels: {a: b}}\ndata: {k: v, gone: soon}\n');
  t.is(await ok(t, 'apply', '--server-side', '-f', ss), 'configmap/ss serverside-applied\n');
  file('ss.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ss, labels: {a: b}}\ndata: {k: v2}\n');
  t.is(await ok(t, 'apply', '--server-side', '-f', ss), 'configmap/ss serverside-applied\n');
  const live = JSON.parse(await ok(t, 'get', 'cm', 'ss', '-o', 'json', '--show-managed-fields'));
  t.deepEqual(live.data, { k: 'v2' }, 'a field the manager stopped applying is removed');
  t.is(live.metadata.managedFields?.[0]?.manager, 'kubectl');
  t.is(live.metadata.managedFields?.[0]?.operation, 'Apply');

  const dry = file('dry.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry}\ndata: {k: v}\n');
  t.is(await ok(t, 'apply', '--dry-run=server', '-f', dry), 'configmap/dry created (server dry run)\n');
  t.is((await kubectl(['get', 'cm', 'dry'])).code, 1, 'a dry run stores nothing');
  t.regex(await ok(t, 'apply', '--dry-run=server', '-f', join(work, 'dir', 'svc.yaml')), /service\/web (unchanged|configured) \(server dry run\)/);

  const unknown = file('strict.yaml', deployment('strict', 1).replace('  replicas: 1\n', '  replicas: 1\n  replicaz: 3\n'));
  t.regex(await fails(t, 'apply', '--validate=strict', '-f', unknown), /Error from server \(BadRequest\): error when creating ".*strict.yaml": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicaz"/);
  t.is((await kubectl(['get', 'deploy', 'strict'])).code, 1, 'nothing stored');
  const unknownUpdate = file('strict-update.yaml', changed.replace('  replicas: 2\n', '  replicas: 2\n  replicaz: 3\n'));
  t.regex(await fails(t, 'apply', '--validate=strict', '-f', unknownUpdate), /unknown field "spec.replicaz"/);
});

test.serial('edit, patch (strategic, merge, json), label, annotate', async (t) => {
  const editor = file('editor.sh', '#!/bin/sh\nsed -i \'s/a: "1"/a: edited/\' "$1"\n');
  chmodSync(editor, 0o755);
  const edited = await kubectl(['edit', 'cm', 'cfg'], { env: { KUBE_EDITOR: editor } });
  t.is(edited.code, 0, edited.stderr);
  t.is(edited.stdout, 'configmap/cfg edited\n');
  t.is(await ok(t, 'get', 'cm', 'cfg', '-o', 'jsonpath={.data.a}'), 'edited');
  t.is(await ok(t, 'patch', 'cm', 'cfg', '-p', '{"data":{"c":"3"}}'), 'configmap/cfg patched\n');
  t.is(await ok(t, 'patch', 'cm', 'cfg', '--type=merge', '-p', '{"data":{"b":null}}'), 'configmap/cfg patched\n');
  t.is(await ok(t, 'patch', 'cm', 'cfg', '--type=json', '-p', '[{"op":"replace","path":"/data/c","value":"33"}]'), 'configmap/cfg patched\n');
  t.deepEqual(JSON.parse(await ok(t, 'get', 'cm', 'cfg', '-o', 'jsonpath={.data}')), { a: 'edited', c: '33' });
  t.is(await ok(t, 'patch', 'deploy', 'web', '--type=strategic', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox:2"}]}}}}'), 'deployment.apps/web patched\n');
  t.is(await ok(t, 'get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[*].image}'), 'nginx:2 busybox:2');
  const badJson = await kubectl(['patch', 'cm', 'cfg', '--type=json', '-p', '[{"op":"remove","path":"/data/missing"}]']);
  t.is(badJson.code, 1);
  t.regex(badJson.stderr, /missing/);

  t.is(await ok(t, 'label', 'cm', 'cfg', 'x=1'), 'configmap/cfg labeled\n');
  t.regex(await fails(t, 'label', 'cm', 'cfg', 'x=2'), /'x' already has a value \(1\), and --overwrite is false/);
  t.is(await ok(t, 'label', 'cm', 'cfg', 'x=2', '--overwrite'), 'configmap/cfg labeled\n');
  t.is(await ok(t, 'get', 'cm', '-l', 'x=2', '-o', 'name'), 'configmap/cfg\n');
  t.is(await ok(t, 'label', 'cm', 'cfg', 'x-'), 'configmap/cfg unlabeled\n');
  t.is(await ok(t, 'annotate', 'cm', 'cfg', 'note=hi'), 'configmap/cfg annotated\n');
  t.regex(await fails(t, 'annotate', 'cm', 'cfg', 'note=ho'), /--overwrite is false/);
  await ok(t, 'annotate', 'cm', 'cfg', 'note=ho', '--overwrite');
  t.is(await ok(t, 'get', 'cm', 'cfg', '-o', 'jsonpath={.metadata.annotations.note}'), 'ho');
  await ok(t, 'annotate', 'cm', 'cfg', 'note-');
  const meta = JSON.parse(await ok(t, 'get', 'cm', 'cfg', '-o', 'json')).metadata;
  t.false('note' in (meta.annotations ?? {}));
  t.false('x' in (meta.labels ?? {}));
});

test.serial('scale and rollout status, history, undo, pause, resume, restart', async (t) => {
  await ok(t, 'rollout', 'status', 'deployment/web', '--timeout=30s');
  t.is(await ok(t, 'scale', 'deploy', 'web', '--replicas=3'), 'deployment.apps/web scaled\n');
  t.regex(await ok(t, 'rollout', 'status', 'deployment/web', '--timeout=30s'), /deployment "web" successfully rolled out/);
  t.regex(await ok(t, 'get', 'deploy', 'web'), /web\s+3\/3\s+3\s+3/);
  t.regex(await ok(t, 'rollout', 'history', 'deploy/web'), /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n3\s+<none>/);
  t.is(await ok(t, 'rollout', 'undo', 'deploy/web'), 'deployment.apps/web rolled back\n');
  await ok(t, 'rollout', 'status', 'deployment/web', '--timeout=30s');
  t.is(await ok(t, 'get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[*].image}'), 'nginx:2 busybox:1');
  t.is(await ok(t, 'rollout', 'pause', 'deploy/web'), 'deployment.apps/web paused\n');
  t.is(await fails(t, 'rollout', 'restart', 'deploy/web'), 'error: deployments.apps "web" can\'t restart paused deployment (run rollout resume first)\n');
  t.is(await ok(t, 'rollout', 'resume', 'deploy/web'), 'deployment.apps/web resumed\n');
  t.is(await ok(t, 'rollout', 'restart', 'deploy/web'), 'deployment.apps/web restarted\n');
  await ok(t, 'rollout', 'status', 'deployment/web', '--timeout=30s');
  t.regex(await ok(t, 'get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.metadata.annotations}'), /kubectl.kubernetes.io\/restartedAt/);
  const scaleBad = await kubectl(['scale', 'deploy', 'web', '--replicas=-1']);
  t.is(scaleBad.code, 1);
});

test.serial('cordon, uncordon, drain with the Eviction subresource', async (t) => {
  t.is(await ok(t, 'cordon', 'node-a'), 'node/node-a cordoned\n');
  t.regex(await ok(t, 'get', 'no', 'node-a'), /node-a\s+Ready,SchedulingDisabled/);
  t.is(await ok(t, 'uncordon', 'node-a'), 'node/node-a uncordoned\n');
  t.regex(await ok(t, 'get', 'no', 'node-a'), /node-a\s+Ready\s/);
  // An unmanaged pod on node-b: drain refuses it without --force.
  file('solo.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {name: solo}\nspec:\n  nodeName: node-b\n  containers: [{name: c, image: busybox}]\n');
  await ok(t, 'apply', '-f', join(work, 'solo.yaml'));
  const refused = await kubectl(['drain', 'node-b', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=20s']);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /cannot delete Pods that declare no controller \(use --force to override\): default\/solo/);
  const drained = await kubectl(['drain', 'node-b', '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=30s']);
  t.is(drained.code, 0, drained.stderr);
  t.regex(drained.stdout, /evicting pod default\/solo/);
  t.regex(drained.stdout, /node\/node-b drained/);
  t.regex(await ok(t, 'get', 'no', 'node-b'), /node-b\s+Ready,SchedulingDisabled/);
  await ok(t, 'rollout', 'status', 'deployment/web', '--timeout=30s');
  t.is(lines(await ok(t, 'get', 'po', '--field-selector', 'spec.nodeName=node-b', '-o', 'name')).length, 0);
  t.is(lines(await ok(t, 'get', 'po', '-l', 'app=web', '--field-selector', 'spec.nodeName=node-a', '-o', 'name')).length, 3);
  await ok(t, 'uncordon', 'node-b');
});

test.serial('delete -f, TYPE NAME, -l, cascades, grace period, wait', async (t) => {
  t.regex(await ok(t, 'delete', '-f', join(work, 'team-b.yaml')), /configmap "aaa" deleted/);
  t.is(await ok(t, 'delete', 'cm', 'created'), 'configmap "created" deleted\n');
  await ok(t, 'label', 'cm', 'ss', 'other', 'grp=x');
  t.is(await ok(t, 'delete', 'cm', '-l', 'grp=x'), 'configmap "other" deleted\nconfigmap "ss" deleted\n');
  for (const name of ['bg', 'fg', 'or']) await ok(t, 'apply', '-f', file(`${name}.yaml`, deployment(name, 2)));
  for (const name of ['bg', 'fg', 'or']) await ok(t, 'rollout', 'status', `deployment/${name}`, '--timeout=30s');
  t.is(await ok(t, 'delete', 'deploy', 'bg', '--cascade=background'), 'deployment.apps "bg" deleted\n');
  t.is(await ok(t, 'delete', 'deploy', 'fg', '--cascade=foreground'), 'deployment.apps "fg" deleted\n');
  // Foreground: the Deployment was gone only after its ReplicaSet and pods.
  t.is(await ok(t, 'get', 'rs,po', '-l', 'app=fg', '-o', 'name'), '');
  t.is(await ok(t, 'delete', 'deploy', 'or', '--cascade=orphan'), 'deployment.apps "or" deleted\n');
  await eventually(async () => (await ok(t, 'get', 'rs,po', '-l', 'app=bg', '-o', 'name')) === '', { timeoutMs: 15_000, message: 'background cascade' });
  const orphans = JSON.parse(await ok(t, 'get', 'rs', '-l', 'app=or', '-o', 'json')).items;
  t.is(orphans.length, 1, 'the orphaned ReplicaSet stays');
  t.deepEqual(orphans[0].metadata.ownerReferences ?? [], []);
  t.is(lines(await ok(t, 'get', 'po', '-l', 'app=or', '-o', 'name')).length, 2);
  t.is(await ok(t, 'delete', 'rs', '-l', 'app=or', '--wait=true'), `replicaset.apps "${orphans[0].metadata.name}" deleted\n`);

  await ok(t, 'apply', '-f', join(work, 'solo.yaml'));
  t.is(await ok(t, 'delete', 'po', 'solo', '--grace-period=1', '--wait=true', '--timeout=20s'), 'pod "solo" deleted\n');
  t.is((await kubectl(['get', 'po', 'solo'])).code, 1);
  await ok(t, 'apply', '-f', join(work, 'solo.yaml'));
  const forced = await kubectl(['delete', 'po', 'solo', '--grace-period=0', '--force']);
  t.is(forced.code, 0, forced.stderr);
  t.is(forced.stdout, 'pod "solo" force deleted\n');
  t.regex(forced.stderr, /Immediate deletion does not wait for confirmation/);
  const deleted = await ok(t, 'delete', '-f', join(work, 'dir'), '--ignore-not-found');
  for (const re of [/deployment.apps "web" deleted/, /service "web" deleted/, /configmap "cfg" deleted/]) t.regex(deleted, re);
  await eventually(async () => (await ok(t, 'get', 'po', '-o', 'name')) === '', { timeoutMs: 20_000, message: 'all pods gone' });
});
