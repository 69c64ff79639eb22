// Server-side apply through the real kubectl: field managers own what they apply, a manager that
// changes another's field is refused with the conflict kubectl reports, --force-conflicts takes it
// over, and a field applied with the same value by two managers is theirs together. The API server
// alone is enough: no scheduler, controllers or nodes.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { kubectlAssertions, kubectlRunner } from '../helpers/kubectl.ts';

const work = mkdtempSync(join(tmpdir(), 'wharf-ssa-'));
let cluster: Cluster;

const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig }));
const { ok, fails } = kubectlAssertions(kubectl);

function configMap(name: string, data: Record<string, string>): string {
  const path = join(work, `${name}-${Object.values(data).join('-')}.yaml`);
  writeFileSync(path, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: ${JSON.stringify(data)}\n`);
  return path;
}

async function managedFields(t: ExecutionContext, name: string): Promise<{ manager: string; operation: string; fieldsV1: Record<string, any> }[]> {
  return JSON.parse(await ok(t, 'get', 'cm', name, '-o', 'json', '--show-managed-fields')).metadata.managedFields;
}

test.before(async () => {
  cluster = await startCluster({ schedulers: 0, controllerManagers: 0 });
});

test.after.always(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

test.serial('a second manager changing a field is refused with the conflict; --force-conflicts takes the field over', async (t) => {
  t.is(await ok(t, 'apply', '--server-side', '--field-manager=team-a', '-f', configMap('shared', { k: 'v', mine: 'a' })), 'configmap/shared serverside-applied\n');
  const refused = await fails(t, 'apply', '--server-side', '--field-manager=team-b', '-f', configMap('shared', { k: 'changed' }));
  t.regex(refused, /^error: Apply failed with 1 conflict: conflict with "team-a": \.data\.k\n/);
  t.is(await ok(t, 'get', 'cm', 'shared', '-o', 'jsonpath={.data.k}'), 'v', 'a refused apply changes nothing');

  t.is(await ok(t, 'apply', '--server-side', '--field-manager=team-b', '--force-conflicts', '-f', configMap('shared', { k: 'changed' })), 'configmap/shared serverside-applied\n');
  t.deepEqual(JSON.parse(await ok(t, 'get', 'cm', 'shared', '-o', 'jsonpath={.data}')), { k: 'changed', mine: 'a' });
  const owners = Object.fromEntries((await managedFields(t, 'shared')).map((e) => [e.manager, e.fieldsV1]));
  t.deepEqual(owners, { 'team-a': { 'f:data': { 'f:mine': {} } }, 'team-b': { 'f:data': { 'f:k': {} } } });
});

test.serial('the same value applied by two managers is owned by both, and stays while either still applies it', async (t) => {
  await ok(t, 'apply', '--server-side', '--field-manager=one', '-f', configMap('both', { k: 'v' }));
  await ok(t, 'apply', '--server-side', '--field-manager=two', '-f', configMap('both', { k: 'v' }));
  t.deepEqual((await managedFields(t, 'both')).map((e) => e.manager).sort(), ['one', 'two']);
  // "one" stops applying k: "two" still owns it, so it stays.
  const empty = join(work, 'both-empty.yaml');
  writeFileSync(empty, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: both, labels: {team: ops}}\n');
  await ok(t, 'apply', '--server-side', '--field-manager=one', '-f', empty);
  t.is(await ok(t, 'get', 'cm', 'both', '-o', 'jsonpath={.data.k}'), 'v');
});

test.serial('every write records its manager, so an apply conflicts with what kubectl create, label and scale changed', async (t) => {
  const manifest = join(work, 'web.yaml');
  const deployment = (replicas: number) => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: ${replicas}\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, image: 'busybox:1.36'}]}\n`;
  writeFileSync(manifest, deployment(2));
  await ok(t, 'create', '-f', manifest);
  await ok(t, 'label', 'deployment', 'web', 'tier=front');
  await ok(t, 'scale', 'deployment', 'web', '--replicas=5');
  const entries = JSON.parse(await ok(t, 'get', 'deployment', 'web', '-o', 'json', '--show-managed-fields')).metadata.managedFields;
  // (Kubernetes orders entries by time, then manager: these writes may share a second.)
  t.deepEqual(entries.map((e: any) => `${e.manager}/${e.operation}/${e.subresource ?? ''}`).sort(), ['kubectl-create/Update/', 'kubectl-label/Update/', 'kubectl/Update/scale']);
  writeFileSync(manifest, deployment(3));
  const refused = await fails(t, 'apply', '--server-side', '--field-manager=ci', '-f', manifest);
  t.regex(refused, /^error: Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps\/v1: \.spec\.replicas\n/);
  t.is(await ok(t, 'get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}'), '5');
});

test.serial('apply without a field manager, or with an invalid one, is refused as Kubernetes refuses it', async (t) => {
  const url = `${cluster.apiUrls[0]}/api/v1/namespaces/default/configmaps/raw`;
  const send = (query: string) => cluster.fetch(`${url}${query}`, { method: 'PATCH', headers: { 'content-type': 'application/apply-patch+yaml' }, body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: raw}\n' });
  const missing = await send('');
  t.is(missing.status, 422);
  t.is(((await missing.json()) as { message: string }).message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  const tooLong = await send(`?fieldManager=${'m'.repeat(129)}`);
  t.is(tooLong.status, 422);
  t.is(((await tooLong.json()) as { message: string }).message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes');
  const badForce = await send('?fieldManager=m&force=maybe');
  t.is(badForce.status, 400);
  t.is((await send('?fieldManager=m&force=true')).status, 201);
});
