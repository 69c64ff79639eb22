// CustomResourceDefinitions end to end with the real kubectl: the CronTab example from Kubernetes'
// CRD documentation (served on every API server replica, printer columns, explain, schema
// validation in Kubernetes' words, strict field validation, defaults, the scale subresource, watch,
// deletion of the CRD removing its objects), and a small operator written with
// @kubernetes/client-node that turns a Website into a Deployment and a Service it owns.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.ts';
import { kubectlAssertions, kubectlRunner } from '../helpers/kubectl.ts';

const work = mkdtempSync(join(tmpdir(), 'wharf-crd-'));
let cluster: Cluster;
const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig }));
const { ok, fails } = kubectlAssertions(kubectl);

function file(name: string, yaml: string): string {
  const path = join(work, name);
  writeFileSync(path, yaml);
  return path;
}

// Kubernetes' documentation example (tasks/extend-kubernetes/custom-resources/custom-resource-definitions),
// with its printer columns, the scale and status subresources and a default.
const CRONTAB_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              description: The CronTab's schedule and image.
              properties:
                cronSpec:
                  type: string
                  description: When to run, in cron syntax.
                  pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'
                image:
                  type: string
                replicas:
                  type: integer
                  minimum: 1
                  maximum: 10
                  default: 1
            status:
              type: object
              properties:
                replicas:
                  type: integer
                labelSelector:
                  type: string
      subresources:
        status: {}
        scale:
          specReplicasPath: .spec.replicas
          statusReplicasPath: .status.replicas
          labelSelectorPath: .status.labelSelector
      additionalPrinterColumns:
        - name: Spec
          type: string
          description: The cron spec defining the interval a CronJob is run
          jsonPath: .spec.cronSpec
        - name: Replicas
          type: integer
          description: The number of jobs launched by the CronJob
          jsonPath: .spec.replicas
        - name: Age
          type: date
          jsonPath: .metadata.creationTimestamp
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames:
    - ct
    categories:
    - all
`;

const cronTab = (name: string, spec: string) => `apiVersion: "stable.example.com/v1"
kind: CronTab
metadata:
  name: ${name}
spec:
${spec}`;

test.before(async () => {
  cluster = await startCluster({ apiServers: 2, schedulers: 0, controllerManagers: 1 });
});

test.after.always(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

test.serial('the CronTab CRD: served on every API server, printer columns, explain, validation, defaults, scale, watch', async (t) => {
  t.is(await ok(t, 'apply', '-f', file('crd.yaml', CRONTAB_CRD)), 'customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com created\n');
  const written = Date.now();
  // Served by both replicas (each follows the CRDs on its own) within a second.
  await Promise.all(cluster.apiUrls.map((url) => eventually(async () => (await cluster.fetch(`${url}/apis/stable.example.com/v1/namespaces/default/crontabs`)).status === 200, { timeoutMs: 5_000, intervalMs: 20, message: `crontabs served by ${url}` })));
  const servedMs = Date.now() - written;
  t.log(`crontabs served on ${cluster.apiUrls.length} API servers ${servedMs} ms after kubectl apply returned`);
  t.true(servedMs < 1_000, `served after ${servedMs} ms`);
  t.is(await ok(t, 'wait', '--for=condition=established', '--timeout=10s', 'crd/crontabs.stable.example.com'), 'customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com condition met\n');
  t.regex(await ok(t, 'get', 'crd'), /^NAME\s+CREATED AT\ncrontabs\.stable\.example\.com\s+\d{4}-\d\d-\d\dT/);

  t.is(await ok(t, 'apply', '-f', file('ct.yaml', cronTab('my-new-cron-object', '  cronSpec: "* * * * */5"\n  image: my-awesome-cron-image\n'))), 'crontab.stable.example.com/my-new-cron-object created\n');
  // Defaulted by the schema.
  t.is(await ok(t, 'get', 'ct', 'my-new-cron-object', '-o', 'jsonpath={.spec.replicas}'), '1');
  t.regex(await ok(t, 'get', 'crontab'), /^NAME\s+SPEC\s+REPLICAS\s+AGE\nmy-new-cron-object\s+\* \* \* \* \*\/5\s+1\s+\d+s\n$/);
  t.regex(await ok(t, 'get', 'all'), /crontab\.stable\.example\.com\/my-new-cron-object/);

  const explain = await ok(t, 'explain', 'crontab.spec');
  t.regex(explain, /^GROUP:\s+stable\.example\.com\nKIND:\s+CronTab\nVERSION:\s+v1\n\nFIELD: spec <Object>\n/);
  t.regex(explain, /cronSpec\s+<string>\n\s+When to run, in cron syntax\./);
  t.regex(explain, /replicas\s+<integer>/);

  const invalid = await fails(t, 'apply', '-f', file('bad.yaml', cronTab('bad', '  cronSpec: "* * * *"\n  replicas: "string"\n')));
  t.regex(invalid, /The CronTab "bad" is invalid: \n\* spec\.cronSpec: Invalid value: "\* \* \* \*": spec\.cronSpec in body should match '\^\(\\d\+\|\\\*\)/);
  t.regex(invalid, /\* spec\.replicas: Invalid value: "string": spec\.replicas in body must be of type integer: "string"/);

  const strict = await fails(t, 'apply', '--validate=strict', '-f', file('unknown.yaml', cronTab('unknown', '  cronSpec: "* * * * *"\n  bogus: 1\n')));
  t.regex(strict, /strict decoding error: unknown field "spec\.bogus"/);
  await fails(t, 'get', 'ct', 'unknown');
  // Under the default (Warn) the field is pruned, with a warning.
  const warned = await kubectl(['apply', '--validate=warn', '-f', file('unknown.yaml', cronTab('unknown', '  cronSpec: "* * * * *"\n  bogus: 1\n'))]);
  t.is(warned.code, 0, warned.stderr);
  t.regex(warned.stderr, /Warning: unknown field "spec\.bogus"/);
  t.is(await ok(t, 'get', 'ct', 'unknown', '-o', 'jsonpath={.spec}'), '{"cronSpec":"* * * * *","replicas":1}');

  // Watch: kubectl -w sees the scale as a MODIFIED event.
  const watch = kubectl.spawn(['get', 'crontabs', '-w', '--output-watch-events', '-o', 'custom-columns=EVENT:.type,NAME:.object.metadata.name,REPLICAS:.object.spec.replicas', '--no-headers']);
  let watched = '';
  watch.stdout.on('data', (d) => (watched += String(d)));
  try {
    await eventually(() => /ADDED\s+my-new-cron-object\s+1/.test(watched), { message: 'the watch lists the object' });
    t.is(await ok(t, 'scale', 'crontab', 'my-new-cron-object', '--replicas=3'), 'crontab.stable.example.com/my-new-cron-object scaled\n');
    await eventually(() => /MODIFIED\s+my-new-cron-object\s+3/.test(watched), { message: 'the watch sees the scale', detail: () => watched });
  } finally {
    watch.kill();
  }
  const scale = await (await cluster.fetch(`${cluster.apiUrls[1]}/apis/stable.example.com/v1/namespaces/default/crontabs/my-new-cron-object/scale`)).json() as any;
  t.like(scale, { kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 3 }, status: { replicas: 0 } });
  // Beyond the schema's maximum: refused as the CronTab's own validation.
  t.regex(await fails(t, 'scale', 'crontab', 'my-new-cron-object', '--replicas=11'), /spec\.replicas in body should be less than or equal to 10/);

  // No strategic merge for a custom resource (no patch strategies to merge by): kubectl is told to use a merge patch.
  t.regex(await fails(t, 'patch', 'ct', 'my-new-cron-object', '-p', '{"spec":{"image":"other"}}'), /UnsupportedMediaType|unknown format/);
  t.is(await ok(t, 'patch', 'ct', 'my-new-cron-object', '--type=merge', '-p', '{"spec":{"image":"other"}}'), 'crontab.stable.example.com/my-new-cron-object patched\n');

  // Generation: counted on spec changes only, as the status subresource is on.
  const generation = async () => Number(await ok(t, 'get', 'ct', 'my-new-cron-object', '-o', 'jsonpath={.metadata.generation}'));
  t.is(await generation(), 3);
  await ok(t, 'label', 'ct', 'my-new-cron-object', 'a=b');
  t.is(await generation(), 3);
});

test.serial('deleting a namespace deletes its custom resources, then the namespace', async (t) => {
  await ok(t, 'create', 'namespace', 'crons');
  await ok(t, 'apply', '-n', 'crons', '-f', file('ns-ct.yaml', cronTab('in-ns', '  cronSpec: "* * * * *"\n')));
  t.regex(await ok(t, 'describe', 'ct', 'in-ns', '-n', 'crons'), /Name:\s+in-ns\nNamespace:\s+crons\n[\s\S]*Cron Spec:\s+\* \* \* \* \*/);
  await ok(t, 'delete', 'namespace', 'crons', '--timeout=30s');
  t.is((await cluster.fetch(`${cluster.apiUrls[0]}/apis/stable.example.com/v1/namespaces/crons/crontabs/in-ns`)).status, 404);
});

test.serial('deleting the CRD removes its objects, then the kind', async (t) => {
  t.regex(await ok(t, 'get', 'crontabs', '-o', 'name'), /crontab\.stable\.example\.com\/my-new-cron-object/);
  t.is(await ok(t, 'delete', 'crd', 'crontabs.stable.example.com', '--timeout=30s'), 'customresourcedefinition.apiextensions.k8s.io "crontabs.stable.example.com" deleted\n');
  await eventually(async () => (await cluster.fetch(`${cluster.apiUrls[0]}/apis/stable.example.com/v1/namespaces/default/crontabs`)).status === 404, { message: 'the kind is no longer served' });
  // Defined again, it starts empty: its objects went with the CRD.
  await ok(t, 'apply', '-f', file('crd.yaml', CRONTAB_CRD));
  await eventually(async () => (await cluster.fetch(`${cluster.apiUrls[0]}/apis/stable.example.com/v1/namespaces/default/crontabs`)).status === 200, { message: 'served again' });
  const list = await (await cluster.fetch(`${cluster.apiUrls[0]}/apis/stable.example.com/v1/crontabs`)).json() as any;
  t.deepEqual(list.items, []);
});

// ---- an operator -------------------------------------------------------------------------------

const WEBSITE_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: websites.example.wharf.dev
spec:
  group: example.wharf.dev
  scope: Namespaced
  names: {plural: websites, singular: website, kind: Website}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [image]
              properties:
                image: {type: string}
                replicas: {type: integer, minimum: 0, default: 1}
                port: {type: integer, default: 80}
            status:
              type: object
              properties:
                deployment: {type: string}
                service: {type: string}
                observedGeneration: {type: integer}
`;

/** The operator's decision: the Deployment and Service a Website wants (pure). */
function childrenOf(site: any): { deployment: k8s.V1Deployment; service: k8s.V1Service } {
  const name = site.metadata.name;
  const owner = { apiVersion: 'example.wharf.dev/v1', kind: 'Website', name, uid: site.metadata.uid, controller: true, blockOwnerDeletion: true };
  const labels = { website: name };
  return {
    deployment: {
      metadata: { name, labels, ownerReferences: [owner] },
      spec: { replicas: site.spec.replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: site.spec.image, ports: [{ containerPort: site.spec.port }] }] } } },
    },
    service: { metadata: { name, labels, ownerReferences: [owner] }, spec: { selector: labels, ports: [{ port: site.spec.port, targetPort: site.spec.port as any }] } },
  };
}

test.serial('an operator written with @kubernetes/client-node reconciles a Website into a Deployment and a Service it owns', async (t) => {
  await ok(t, 'apply', '-f', file('website-crd.yaml', WEBSITE_CRD));
  await eventually(async () => (await cluster.fetch(`${cluster.apiUrls[0]}/apis/example.wharf.dev/v1/namespaces/default/websites`)).status === 200, { message: 'websites served' });

  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'wharf', server: cluster.apiUrls[1], caData: Buffer.from(cluster.ca).toString('base64') }],
    users: [{ name: 'admin', token: cluster.adminToken }],
    contexts: [{ name: 'wharf', cluster: 'wharf', user: 'admin', namespace: 'default' }],
    currentContext: 'wharf',
  });
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const site = { group: 'example.wharf.dev', version: 'v1', namespace: 'default', plural: 'websites' };

  // The operator: an informer on Websites; each add or update reconciles the Website's children and status.
  const reconcile = async (w: any) => {
    if (w.metadata.deletionTimestamp) return;
    const { deployment, service } = childrenOf(w);
    try {
      await apps.replaceNamespacedDeployment({ name: w.metadata.name, namespace: 'default', body: { ...deployment, metadata: { ...deployment.metadata, resourceVersion: undefined } } });
    } catch (err: any) {
      if (err.code !== 404) throw err;
      await apps.createNamespacedDeployment({ namespace: 'default', body: deployment });
    }
    try {
      await core.readNamespacedService({ name: w.metadata.name, namespace: 'default' });
    } catch (err: any) {
      if (err.code !== 404) throw err;
      await core.createNamespacedService({ namespace: 'default', body: service });
    }
    if (w.status?.observedGeneration !== w.metadata.generation) {
      await custom.patchNamespacedCustomObjectStatus({ ...site, name: w.metadata.name, body: { status: { deployment: w.metadata.name, service: w.metadata.name, observedGeneration: w.metadata.generation } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    }
  };
  const errors: unknown[] = [];
  const informer = k8s.makeInformer(kc, '/apis/example.wharf.dev/v1/namespaces/default/websites', () => custom.listNamespacedCustomObject(site) as any);
  const run = (w: any) => void reconcile(w).catch((err) => errors.push(err));
  informer.on('add', run);
  informer.on('update', run);
  let stopping = false;
  // Stopping the informer aborts its watch: that error is the test's own doing.
  informer.on('error', (err: unknown) => {
    if (!stopping) errors.push(err);
  });
  await informer.start();
  try {
    await custom.createNamespacedCustomObject({ ...site, body: { apiVersion: 'example.wharf.dev/v1', kind: 'Website', metadata: { name: 'blog' }, spec: { image: 'nginx:1.27' } } });
    const dep = await eventually(async () => apps.readNamespacedDeployment({ name: 'blog', namespace: 'default' }).catch(() => undefined), { timeoutMs: 30_000, message: 'the operator made the Deployment', detail: () => errors.map(String).join('\n') });
    t.is(dep.spec?.replicas, 1);
    t.is(dep.metadata?.ownerReferences?.[0]?.kind, 'Website');
    const svc = await eventually(async () => core.readNamespacedService({ name: 'blog', namespace: 'default' }).catch(() => undefined), { timeoutMs: 30_000, message: 'the operator made the Service', detail: () => errors.map(String).join('\n') });
    t.is(svc.spec?.ports?.[0]?.port, 80);
    const done: any = await eventually(async () => {
      const w: any = await custom.getNamespacedCustomObject({ ...site, name: 'blog' });
      return w.status?.observedGeneration === 1 ? w : undefined;
    }, { message: 'the status written back' });
    t.is(done.status.deployment, 'blog');

    // Update: the Deployment follows.
    await custom.patchNamespacedCustomObject({ ...site, name: 'blog', body: { spec: { replicas: 3 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await eventually(async () => (await apps.readNamespacedDeployment({ name: 'blog', namespace: 'default' })).spec?.replicas === 3, { message: 'the Deployment scaled with the Website' });
    await eventually(async () => ((await custom.getNamespacedCustomObject({ ...site, name: 'blog' })) as any).status?.observedGeneration === 2, { message: 'observedGeneration 2' });
    t.regex(await ok(t, 'get', 'websites'), /^NAME\s+AGE\nblog\s+\d+s\n$/);

    // Delete: the garbage collector removes what the Website owned.
    await custom.deleteNamespacedCustomObject({ ...site, name: 'blog' });
    await eventually(async () => !(await apps.readNamespacedDeployment({ name: 'blog', namespace: 'default' }).catch(() => undefined)), { timeoutMs: 20_000, message: 'the Deployment collected' });
    await eventually(async () => !(await core.readNamespacedService({ name: 'blog', namespace: 'default' }).catch(() => undefined)), { timeoutMs: 20_000, message: 'the Service collected' });
  } finally {
    stopping = true;
    await informer.stop();
  }
  t.deepEqual(errors.filter((e: any) => e?.code !== 409), []);
});

// ---- a CRD of the size and shape operators publish ----------------------------------------------

const podTemplateSchema = `
                    type: object
                    x-kubernetes-embedded-resource: true
                    x-kubernetes-preserve-unknown-fields: true`;

const DATABASE_CRD = (storage: 'v1' | 'v1beta1') => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: databaseclusters.db.example.org
  annotations:
    controller-gen.kubebuilder.io/version: v0.16.0
spec:
  group: db.example.org
  scope: Cluster
  names:
    plural: databaseclusters
    singular: databasecluster
    kind: DatabaseCluster
    listKind: DatabaseClusterList
    shortNames: [dbc]
    categories: [databases]
  versions:
${['v1beta1', 'v1'].map((v) => `  - name: ${v}
    served: true
    storage: ${v === storage}
    selectableFields:
    - jsonPath: .spec.engine
    additionalPrinterColumns:
    - {name: Engine, type: string, jsonPath: .spec.engine}
    - {name: Members, type: integer, jsonPath: .spec.members}
    - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
    - {name: Port, type: string, priority: 1, jsonPath: .spec.service.port}
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.members, statusReplicasPath: .status.members, labelSelectorPath: .status.selector}
    schema:
      openAPIV3Schema:
        type: object
        required: [spec]
        properties:
          spec:
            type: object
            required: [engine]
            properties:
              engine: {type: string, enum: [postgres, mysql]}
              members: {type: integer, format: int32, minimum: 1, maximum: 9, default: 3}
              version: {type: string, pattern: '^\\d+(\\.\\d+)*$'}
              backup:
                type: object
                nullable: true
                properties:
                  schedule: {type: string, minLength: 9}
                  retention:
                    type: object
                    properties:
                      days: {type: integer, minimum: 1, default: 7}
                      keepLast: {type: integer, exclusiveMinimum: true, minimum: 0}
                  destination:
                    type: object
                    properties:
                      s3:
                        type: object
                        properties:
                          bucket: {type: string, maxLength: 63}
                          endpoint: {type: string, format: uri}
                          credentials:
                            type: object
                            properties:
                              secretRef: {type: object, properties: {name: {type: string}, key: {type: string}}, required: [name]}
              service:
                type: object
                properties:
                  port: {x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}
                  annotations: {type: object, additionalProperties: {type: string}}
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name, protocol]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    protocol: {type: string, default: TCP}
                    port: {type: integer}
              tags: {type: array, x-kubernetes-list-type: set, items: {type: string}}
              parameters: {type: object, x-kubernetes-preserve-unknown-fields: true}
              podTemplate:${podTemplateSchema}
          status:
            type: object
            properties:
              members: {type: integer}
              selector: {type: string}
              conditions:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [type]
                items:
                  type: object
                  required: [type, status]
                  properties:
                    type: {type: string}
                    status: {type: string, enum: ["True", "False", "Unknown"]}
                    reason: {type: string}
                    lastTransitionTime: {type: string, format: date-time}
`).join('')}`;

const database = (name: string, apiVersion: string, spec: string) => `apiVersion: ${apiVersion}
kind: DatabaseCluster
metadata:
  name: ${name}
spec:
${spec}`;

test.serial('a CRD of the shape operators publish: several versions, nested schemas, int-or-string, preserve-unknown-fields, embedded resources, list-map keys', async (t) => {
  const crd = file('db-crd.yaml', DATABASE_CRD('v1'));
  t.is(await ok(t, 'apply', '-f', crd), 'customresourcedefinition.apiextensions.k8s.io/databaseclusters.db.example.org created\n');
  t.is(await ok(t, 'apply', '-f', crd), 'customresourcedefinition.apiextensions.k8s.io/databaseclusters.db.example.org unchanged\n');
  await ok(t, 'wait', '--for=condition=established', '--timeout=10s', 'crd/databaseclusters.db.example.org');
  await eventually(async () => (await cluster.fetch(`${cluster.apiUrls[0]}/apis/db.example.org/v1beta1/databaseclusters`)).status === 200, { message: 'v1beta1 served' });

  const good = file('db.yaml', database('orders', 'db.example.org/v1beta1', `  engine: postgres
  version: "16.2"
  backup:
    schedule: "0 3 * * *"
    retention: {keepLast: 2}
    destination: {s3: {bucket: backups, endpoint: "https://s3.example.org", credentials: {secretRef: {name: s3}}}}
  service: {port: postgres, annotations: {a: b}}
  ports: [{name: pg, protocol: TCP, port: 5432}, {name: pg, protocol: UDP, port: 5432}, {name: metrics, port: 9187}]
  tags: [a, b]
  parameters: {max_connections: 100, shared_buffers: {size: 1GB}}
  podTemplate:
    apiVersion: v1
    kind: Pod
    metadata: {labels: {app: orders}}
    spec: {containers: [{name: db, image: postgres:16}]}
`));
  t.is(await ok(t, 'apply', '--validate=strict', '-f', good), 'databasecluster.db.example.org/orders created\n');
  // Unchanged: nothing the server defaulted sits in a list the manifest names (kubectl's JSON merge
  // patch replaces a list whole, so a default inside one makes every apply "configured", as on Kubernetes).
  const manifest = readFileSync(good, 'utf8').replace('{name: metrics, port: 9187}', '{name: metrics, protocol: TCP, port: 9187}');
  t.is(await ok(t, 'apply', '--validate=strict', '-f', good), 'databasecluster.db.example.org/orders configured\n');
  t.is(await ok(t, 'apply', '--validate=strict', '-f', file('db.yaml', manifest)), 'databasecluster.db.example.org/orders configured\n');
  t.is(await ok(t, 'apply', '--validate=strict', '-f', file('db.yaml', manifest)), 'databasecluster.db.example.org/orders unchanged\n');
  const stored = JSON.parse(await ok(t, 'get', 'dbc', 'orders', '-o', 'json'));
  t.is(stored.apiVersion, 'db.example.org/v1', 'read in the preferred (storage) version');
  t.is(stored.spec.members, 3);
  t.deepEqual(stored.spec.backup.retention, { keepLast: 2, days: 7 });
  t.deepEqual(stored.spec.ports.map((p: any) => p.protocol), ['TCP', 'UDP', 'TCP']);
  t.deepEqual(stored.spec.parameters, { max_connections: 100, shared_buffers: { size: '1GB' } });
  t.is(stored.spec.podTemplate.spec.containers[0].image, 'postgres:16');
  const beta = await (await cluster.fetch(`${cluster.apiUrls[1]}/apis/db.example.org/v1beta1/databaseclusters/orders`)).json() as any;
  t.is(beta.apiVersion, 'db.example.org/v1beta1', 'another served version: apiVersion rewritten');
  t.regex(await ok(t, 'get', 'databaseclusters', '-o', 'wide'), /^NAME\s+ENGINE\s+MEMBERS\s+READY\s+PORT\norders\s+postgres\s+3\s+postgres\n$/);

  const bad = await fails(t, 'apply', '-f', file('db-bad.yaml', database('bad', 'db.example.org/v1', `  engine: oracle
  members: 12
  backup: {schedule: "daily", destination: {s3: {bucket: b, credentials: {secretRef: {key: k}}}}}
  ports: [{name: pg}, {name: pg}]
  tags: [a, a]
  podTemplate: {spec: {}}
`)));
  for (const cause of [
    'spec.engine: Unsupported value: "oracle": supported values: "postgres", "mysql"',
    'spec.members: Invalid value: 12: spec.members in body should be less than or equal to 9',
    'spec.backup.schedule: Invalid value: "daily": spec.backup.schedule in body should be at least 9 chars long',
    'spec.backup.destination.s3.credentials.secretRef.name: Required value',
    'spec.ports[1]: Duplicate value: {"name":"pg","protocol":"TCP"}',
    'spec.tags[1]: Duplicate value: "a"',
    'spec.podTemplate.apiVersion: Required value: must not be empty',
  ]) t.true(bad.includes(cause), `${cause}\nin\n${bad}`);

  // selectableFields, and the cluster scope.
  await ok(t, 'apply', '-f', file('db2.yaml', database('users', 'db.example.org/v1', '  engine: mysql\n')));
  t.is(await ok(t, 'get', 'dbc', '--field-selector', 'spec.engine=mysql', '-o', 'name'), 'databasecluster.db.example.org/users\n');
  t.regex(await fails(t, 'get', 'dbc', '--field-selector', 'spec.version=1'), /field label not supported: spec\.version/);
  // Server-side apply: managedFields recorded for the custom resource.
  const ssa = file('db-ssa.yaml', database('ssa', 'db.example.org/v1', '  engine: mysql\n  tags: [x]\n'));
  t.is(await ok(t, 'apply', '--server-side', '--field-manager=dba', '-f', ssa), 'databasecluster.db.example.org/ssa serverside-applied\n');
  const managed = JSON.parse(await ok(t, 'get', 'dbc', 'ssa', '-o', 'json', '--show-managed-fields')).metadata.managedFields;
  t.true(managed.some((m: any) => m.manager === 'dba' && m.operation === 'Apply' && m.fieldsV1?.['f:spec']?.['f:engine']));

  // Moving storage to v1beta1 keeps the objects readable in both versions.
  t.is(await ok(t, 'apply', '-f', file('db-crd-2.yaml', DATABASE_CRD('v1beta1'))), 'customresourcedefinition.apiextensions.k8s.io/databaseclusters.db.example.org configured\n');
  t.deepEqual(JSON.parse(await ok(t, 'get', 'crd', 'databaseclusters.db.example.org', '-o', 'jsonpath={.status.storedVersions}')), ['v1', 'v1beta1']);
});

// ---- CEL validation rules -------------------------------------------------------------------------

const LIMITS_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: quotalimits.cel.wharf.dev
spec:
  group: cel.wharf.dev
  scope: Namespaced
  names: {plural: quotalimits, singular: quotalimit, kind: QuotaLimit}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              x-kubernetes-validations:
                - rule: "self.minReplicas <= self.replicas"
                  message: "replicas must be at least minReplicas"
                  fieldPath: .replicas
                - rule: "self.tier == oldSelf.tier"
                  message: "tier is immutable"
                  reason: FieldValueForbidden
              properties:
                tier: {type: string}
                minReplicas: {type: integer, default: 1}
                replicas:
                  type: integer
                  x-kubernetes-validations:
                    - rule: "self <= 10"
                owner:
                  type: string
                  x-kubernetes-validations:
                    - rule: "self.endsWith('@example.com')"
                      messageExpression: "'owner ' + self + ' is not from example.com'"
`;

const quotaLimit = (spec: string) => `apiVersion: cel.wharf.dev/v1
kind: QuotaLimit
metadata: {name: team}
spec:
${spec}`;

test.serial('CEL rules (x-kubernetes-validations): enforced with Kubernetes wording, transition rules on update, rules that do not compile refuse the CRD', async (t) => {
  await ok(t, 'apply', '-f', file('limits-crd.yaml', LIMITS_CRD));
  await eventually(async () => (await cluster.fetch(`${cluster.apiUrls[1]}/apis/cel.wharf.dev/v1/namespaces/default/quotalimits`)).status === 200, { message: 'served on both API servers' });

  const refused = await fails(t, 'apply', '-f', file('ql-bad.yaml', quotaLimit('  tier: gold\n  replicas: 12\n  minReplicas: 13\n  owner: bob@elsewhere.org\n')));
  t.regex(refused, /The QuotaLimit "team" is invalid/);
  t.regex(refused, /spec\.replicas: Invalid value: "object": replicas must be at least minReplicas/);
  t.regex(refused, /spec\.replicas: Invalid value: "integer": failed rule: self <= 10/);
  t.regex(refused, /spec\.owner: Invalid value: "string": owner bob@elsewhere\.org is not from example\.com/);

  t.regex(await ok(t, 'apply', '-f', file('ql.yaml', quotaLimit('  tier: gold\n  replicas: 2\n  owner: ann@example.com\n'))), /quotalimit\.cel\.wharf\.dev\/team created/);
  // The transition rule: tier may not change once set; other changes pass.
  t.regex(await fails(t, 'apply', '-f', file('ql-tier.yaml', quotaLimit('  tier: silver\n  replicas: 2\n  owner: ann@example.com\n'))), /spec: Forbidden: tier is immutable/);
  t.regex(await ok(t, 'apply', '-f', file('ql-more.yaml', quotaLimit('  tier: gold\n  replicas: 3\n  owner: ann@example.com\n'))), /configured/);

  // A rule that does not compile: the CRD is refused, naming the rule and cel-go's error.
  const broken = LIMITS_CRD.replace('"self <= 10"', '"self.max <= 10"');
  const crdRefused = await fails(t, 'apply', '-f', file('limits-broken.yaml', broken));
  t.regex(crdRefused, /spec\.validation\.openAPIV3Schema\.properties\[spec\]\.properties\[replicas\]\.x-kubernetes-validations\[0\]\.rule: Invalid value: apiextensions\.ValidationRule\{Rule:"self\.max <= 10"/);
  t.regex(crdRefused, /compilation failed: ERROR: <input>:1:5: type 'int' does not support field selection/);
  await ok(t, 'delete', 'crd', 'quotalimits.cel.wharf.dev', '--timeout=30s');
});
