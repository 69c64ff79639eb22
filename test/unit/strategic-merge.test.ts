import test from 'ava';
import { strategicMergePatch } from '../../shared/api/strategic-merge.ts';
import { BadRequestError } from '../../shared/errors.ts';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'default',
    labels: { app: 'web', tier: 'fe' },
    annotations: { a: '1' },
    finalizers: ['example.com/a', 'example.com/b'],
  },
  spec: {
    replicas: 3,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'nginx:1.25',
            args: ['--a', '--b'],
            command: ['nginx'],
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
            ports: [
              { containerPort: 80, name: 'http' },
              { containerPort: 443, name: 'https' },
            ],
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          },
          { name: 'sidecar', image: 'busybox:1', args: ['sleep', '1d'] },
        ],
        volumes: [
          { name: 'data', emptyDir: {} },
          { name: 'cfg', configMap: { name: 'cfg' } },
        ],
        tolerations: [{ key: 'x', operator: 'Exists' }],
      },
    },
  },
});

const containers = (o: any) => o.spec.template.spec.containers;
const tmplSpec = (patch: any) => ({ spec: { template: { spec: patch } } });

test('containers merge by name: changing one image leaves the other container alone', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), tmplSpec({ containers: [{ name: 'app', image: 'nginx:1.26' }] }));
  t.is(containers(out).length, 2);
  t.deepEqual(containers(out)[0], { ...deployment().spec.template.spec.containers[0], image: 'nginx:1.26' });
  t.deepEqual(containers(out)[1], deployment().spec.template.spec.containers[1]);
});

test('containers merge by name: a new name is appended', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), tmplSpec({ containers: [{ name: 'log', image: 'fluentd' }] }));
  t.deepEqual(containers(out).map((c: any) => c.name), ['app', 'sidecar', 'log']);
  t.deepEqual(containers(out)[2], { name: 'log', image: 'fluentd' });
});

test('initContainers merge by name', (t) => {
  const orig = { spec: { initContainers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] } };
  const out = strategicMergePatch('Pod', orig, { spec: { initContainers: [{ name: 'b', image: 'z' }] } });
  t.deepEqual(out.spec.initContainers, [{ name: 'a', image: 'x' }, { name: 'b', image: 'z' }]);
});

test('env merges by name inside a container', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), tmplSpec({ containers: [{ name: 'app', env: [{ name: 'B', value: '20' }, { name: 'C', value: '3' }] }] }));
  t.deepEqual(containers(out)[0].env, [
    { name: 'A', value: '1' },
    { name: 'B', value: '20' },
    { name: 'C', value: '3' },
  ]);
});

test('env element: replacing value by valueFrom with value: null', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), tmplSpec({ containers: [{ name: 'app', env: [{ name: 'A', value: null, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] }] }));
  t.deepEqual(containers(out)[0].env[0], { name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
});

test('volumes merge by name', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), tmplSpec({ volumes: [{ name: 'cfg', configMap: { name: 'cfg2' } }, { name: 'new', emptyDir: {} }] }));
  t.deepEqual(out.spec.template.spec.volumes, [
    { name: 'data', emptyDir: {} },
    { name: 'cfg', configMap: { name: 'cfg2' } },
    { name: 'new', emptyDir: {} },
  ]);
});

test('volumeMounts merge by mountPath', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), tmplSpec({ containers: [{ name: 'app', volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }, { name: 'cfg', mountPath: '/etc/cfg' }] }] }));
  t.deepEqual(containers(out)[0].volumeMounts, [
    { name: 'data', mountPath: '/data', readOnly: true },
    { name: 'cfg', mountPath: '/etc/cfg' },
  ]);
});

test('container ports merge by containerPort', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), tmplSpec({ containers: [{ name: 'app', ports: [{ containerPort: 443, name: 'tls' }, { containerPort: 8080 }] }] }));
  t.deepEqual(containers(out)[0].ports, [
    { containerPort: 80, name: 'http' },
    { containerPort: 443, name: 'tls' },
    { containerPort: 8080 },
  ]);
});

test('Pod container ports merge by containerPort too', (t) => {
  const pod = { spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }, { containerPort: 81 }] }] } };
  const out = strategicMergePatch('Pod', pod, { spec: { containers: [{ name: 'c', ports: [{ containerPort: 81, protocol: 'UDP' }] }] } });
  t.deepEqual(out.spec.containers[0].ports, [{ containerPort: 80 }, { containerPort: 81, protocol: 'UDP' }]);
});

test('Service spec.ports merge by port', (t) => {
  const svc = {
    kind: 'Service',
    spec: {
      selector: { app: 'web' },
      ports: [
        { name: 'http', port: 80, targetPort: 8080 },
        { name: 'https', port: 443, targetPort: 8443 },
      ],
    },
  };
  const out = strategicMergePatch('Service', svc, { spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 8000, name: 'alt' }] } });
  t.deepEqual(out.spec.ports, [
    { name: 'http', port: 80, targetPort: 9090 },
    { name: 'https', port: 443, targetPort: 8443 },
    { port: 8000, name: 'alt' },
  ]);
  t.deepEqual(out.spec.selector, { app: 'web' });
});

test('Service spec.ports $patch: delete by port', (t) => {
  const svc = { spec: { ports: [{ port: 80 }, { port: 443 }] } };
  const out = strategicMergePatch('Service', svc, { spec: { ports: [{ port: 80, $patch: 'delete' }] } });
  t.deepEqual(out.spec.ports, [{ port: 443 }]);
});

test('ownerReferences merge by uid', (t) => {
  const orig = { metadata: { ownerReferences: [{ uid: 'u1', name: 'a', kind: 'ReplicaSet' }] } };
  const out = strategicMergePatch('Pod', orig, { metadata: { ownerReferences: [{ uid: 'u1', controller: true }, { uid: 'u2', name: 'b' }] } });
  t.deepEqual(out.metadata.ownerReferences, [
    { uid: 'u1', name: 'a', kind: 'ReplicaSet', controller: true },
    { uid: 'u2', name: 'b' },
  ]);
});

test('Pod status.conditions merge by type', (t) => {
  const orig = { status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'PodScheduled', status: 'True' }] } };
  const out = strategicMergePatch('Pod', orig, { status: { conditions: [{ type: 'Ready', status: 'True' }] } });
  t.deepEqual(out.status.conditions, [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }]);
});

test('null deletes keys (labels, nested fields)', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), { metadata: { labels: { tier: null, new: 'x' }, annotations: null } });
  t.deepEqual(out.metadata.labels, { app: 'web', new: 'x' });
  t.false('annotations' in out.metadata);
});

test('null deletes a whole list', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), tmplSpec({ tolerations: null, volumes: null }));
  t.false('tolerations' in out.spec.template.spec);
  t.false('volumes' in out.spec.template.spec);
});

test('null deletes a field of one keyed list element', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), tmplSpec({ containers: [{ name: 'app', args: null }] }));
  t.false('args' in containers(out)[0]);
  t.deepEqual(containers(out)[0].command, ['nginx']);
});

test('$patch: delete in a keyed list element removes it', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), tmplSpec({ containers: [{ name: 'sidecar', $patch: 'delete' }] }));
  t.deepEqual(containers(out).map((c: any) => c.name), ['app']);
});

test('$patch: delete of an env entry and a volume', (t) => {
  const out = strategicMergePatch(
    'Deployment',
    deployment(),
    tmplSpec({ containers: [{ name: 'app', env: [{ name: 'A', $patch: 'delete' }] }], volumes: [{ name: 'cfg', $patch: 'delete' }] }),
  );
  t.deepEqual(containers(out)[0].env, [{ name: 'B', value: '2' }]);
  t.deepEqual(out.spec.template.spec.volumes, [{ name: 'data', emptyDir: {} }]);
});

test('$patch: delete of an absent keyed element is a no-op', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), tmplSpec({ containers: [{ name: 'nope', $patch: 'delete' }] }));
  t.deepEqual(containers(out), deployment().spec.template.spec.containers);
});

test('$patch: delete on a map removes the map', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), { spec: { strategy: { $patch: 'delete' } } });
  t.false('strategy' in out.spec);
  t.is(out.spec.replicas, 3);
});

test('$patch: replace on a map replaces it entirely', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), { metadata: { labels: { $patch: 'replace', only: 'this' } } });
  t.deepEqual(out.metadata.labels, { only: 'this' });
  t.deepEqual(out.metadata.annotations, { a: '1' });
});

test('$patch: replace on a nested map with nested content', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), { spec: { strategy: { $patch: 'replace', type: 'Recreate' } } });
  t.deepEqual(out.spec.strategy, { type: 'Recreate' });
});

test('$patch: replace on a keyed list replaces the list', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), tmplSpec({ containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] }));
  t.deepEqual(containers(out), [{ name: 'only', image: 'x' }]);
});

test('$patch: replace on a keyed list element replaces that element only', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), tmplSpec({ containers: [{ name: 'app', image: 'x', $patch: 'replace' }] }));
  t.deepEqual(containers(out), [{ name: 'app', image: 'x' }, deployment().spec.template.spec.containers[1]]);
});

test('$patch: merge is the default', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), { metadata: { labels: { $patch: 'merge', x: 'y' } } });
  t.deepEqual(out.metadata.labels, { app: 'web', tier: 'fe', x: 'y' });
});

test('unknown $patch directive is a BadRequest', (t) => {
  t.throws(() => strategicMergePatch('Deployment', deployment(), { metadata: { labels: { $patch: 'frobnicate' } } }), { instanceOf: BadRequestError });
});

test('$setElementOrder/containers reorders the merged list', (t) => {
  const out = strategicMergePatch(
    'Deployment',
    deployment(),
    tmplSpec({ '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'app' }], containers: [{ name: 'app', image: 'nginx:2' }] }),
  );
  t.deepEqual(containers(out).map((c: any) => `${c.name}:${c.image}`), ['sidecar:busybox:1', 'app:nginx:2']);
  t.false(Object.keys(out.spec.template.spec).some((k) => k.startsWith('$')));
});

test('$setElementOrder/containers with a new container in the middle (what kubectl apply sends)', (t) => {
  const out = strategicMergePatch(
    'Deployment',
    deployment(),
    tmplSpec({
      '$setElementOrder/containers': [{ name: 'app' }, { name: 'mid' }, { name: 'sidecar' }],
      containers: [{ name: 'mid', image: 'm' }],
    }),
  );
  t.deepEqual(containers(out).map((c: any) => c.name), ['app', 'mid', 'sidecar']);
});

test('$setElementOrder/env orders env by name', (t) => {
  const out = strategicMergePatch(
    'Deployment',
    deployment(),
    tmplSpec({ containers: [{ name: 'app', '$setElementOrder/env': [{ name: 'B' }, { name: 'A' }] }] }),
  );
  t.deepEqual(containers(out)[0].env.map((e: any) => e.name), ['B', 'A']);
  t.false(Object.keys(containers(out)[0]).some((k) => k.startsWith('$')));
});

test('$deleteFromPrimitiveList/finalizers removes the listed finalizers', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['example.com/a'] } });
  t.deepEqual(out.metadata.finalizers, ['example.com/b']);
  t.false(Object.keys(out.metadata).some((k) => k.startsWith('$')));
});

test('$deleteFromPrimitiveList of an absent value is a no-op', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['nope'] } });
  t.deepEqual(out.metadata.finalizers, ['example.com/a', 'example.com/b']);
});

test('$retainKeys drops keys not listed (switching strategy to Recreate)', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } });
  t.deepEqual(out.spec.strategy, { type: 'Recreate' });
});

test('$retainKeys keeps listed keys of the original and merges patched ones', (t) => {
  const orig = { spec: { template: { spec: { volumes: [{ name: 'v', emptyDir: {}, hostPath: { path: '/x' } }] } } } };
  const out = strategicMergePatch('Deployment', orig, tmplSpec({ volumes: [{ name: 'v', $retainKeys: ['name', 'hostPath'], hostPath: { type: 'Directory' } }] }));
  t.deepEqual(out.spec.template.spec.volumes, [{ name: 'v', hostPath: { path: '/x', type: 'Directory' } }]);
});

test('non-keyed lists (args, command) are replaced whole', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), tmplSpec({ containers: [{ name: 'app', args: ['--c'], command: ['sh', '-c'] }] }));
  t.deepEqual(containers(out)[0].args, ['--c']);
  t.deepEqual(containers(out)[0].command, ['sh', '-c']);
});

test('non-keyed lists of objects (tolerations) are replaced whole', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), tmplSpec({ tolerations: [{ key: 'y', operator: 'Exists' }] }));
  t.deepEqual(out.spec.template.spec.tolerations, [{ key: 'y', operator: 'Exists' }]);
});

test('an empty keyed list in a patch leaves the original list', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), tmplSpec({ containers: [] }));
  t.deepEqual(containers(out), deployment().spec.template.spec.containers);
});

test('metadata.finalizers are unioned, keeping order and without duplicates', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), { metadata: { finalizers: ['example.com/b', 'example.com/c'] } });
  t.deepEqual(out.metadata.finalizers, ['example.com/a', 'example.com/b', 'example.com/c']);
});

test('metadata.finalizers: union onto an object without finalizers', (t) => {
  const out = strategicMergePatch('Pod', { metadata: { name: 'p' } }, { metadata: { finalizers: ['x'] } });
  t.deepEqual(out.metadata.finalizers, ['x']);
});

test('scalars replace; new maps are created; other keys kept', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), { spec: { replicas: 5, paused: true, minReadySeconds: 0 } });
  t.is(out.spec.replicas, 5);
  t.is(out.spec.paused, true);
  t.is(out.spec.minReadySeconds, 0);
  t.deepEqual(out.spec.selector, { matchLabels: { app: 'web' } });
  t.is(out.metadata.name, 'web');
});

test('directives are stripped from newly added elements', (t) => {
  const out = strategicMergePatch(
    'Deployment',
    deployment(),
    tmplSpec({ containers: [{ name: 'new', image: 'x', '$setElementOrder/env': [{ name: 'Z' }], env: [{ name: 'Z', value: 'z' }], args: null }] }),
  );
  t.deepEqual(containers(out)[2], { name: 'new', image: 'x', env: [{ name: 'Z', value: 'z' }] });
});

test('keyed list element that is not an object is a BadRequest', (t) => {
  t.throws(() => strategicMergePatch('Deployment', deployment(), tmplSpec({ containers: ['app'] })), { instanceOf: BadRequestError });
});

test('a keyed list element without its merge key is a BadRequest, even one that deletes (found by the API fuzz suite)', (t) => {
  const refused = (patch: object) => t.throws(() => strategicMergePatch('Deployment', deployment(), tmplSpec(patch)), { instanceOf: BadRequestError });
  t.is(refused({ containers: [{ $patch: 'delete' }] })?.message, 'map: map[$patch:delete] does not contain declared merge key: name');
  t.is(refused({ containers: [{ name: 'app', env: [{ value: 'x', valueFrom: null }] }] })?.message, 'map: map[value:x valueFrom:<nil>] does not contain declared merge key: name');
  t.is(refused({ containers: [{ image: 'x', ports: [{ containerPort: 80 }], args: ['a', 1] }] })?.message, 'map: map[args:[a 1] image:x ports:[map[containerPort:80]]] does not contain declared merge key: name');
});

test('original undefined or non-object is treated as {}', (t) => {
  t.deepEqual(strategicMergePatch('Pod', undefined, { metadata: { name: 'x' } }), { metadata: { name: 'x' } });
  t.deepEqual(strategicMergePatch('Pod', 'str', { a: 1 }), { a: 1 });
});

test('strategicMergePatch mutates neither the original nor the patch', (t) => {
  const orig = deployment();
  const origCopy = structuredClone(orig);
  const patch = {
    metadata: { labels: { tier: null }, finalizers: ['example.com/c'], '$deleteFromPrimitiveList/finalizers': ['example.com/a'] },
    spec: {
      strategy: { $retainKeys: ['type'], type: 'Recreate' },
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'app' }],
          containers: [
            { name: 'app', image: 'nginx:2', env: [{ name: 'A', $patch: 'delete' }, { name: 'C', value: '3' }], ports: [{ containerPort: 80, name: 'web' }] },
            { name: 'extra', image: 'e', $patch: 'replace' },
          ],
          volumes: [{ name: 'data', $patch: 'delete' }],
        },
      },
    },
  };
  const patchCopy = structuredClone(patch);
  const out = strategicMergePatch('Deployment', orig, patch);
  t.deepEqual(orig, origCopy);
  t.deepEqual(patch, patchCopy);
  // Mutating the result must not reach back into the original.
  out.spec.template.spec.containers[0].args.push('mut');
  out.metadata.finalizers.push('mut');
  out.spec.template.spec.volumes.push({ name: 'mut' });
  t.deepEqual(orig, origCopy);
  t.deepEqual(patch, patchCopy);
});

test('full kubectl apply-like patch', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), {
    metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
    spec: {
      replicas: 4,
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'app' }, { name: 'sidecar' }],
          containers: [{ name: 'app', image: 'nginx:1.27', '$setElementOrder/env': [{ name: 'A' }, { name: 'B' }], env: [{ name: 'B', value: 'b' }] }],
        },
      },
    },
  });
  t.is(out.spec.replicas, 4);
  t.deepEqual(out.metadata.annotations, { a: '1', 'kubectl.kubernetes.io/last-applied-configuration': '{}' });
  t.deepEqual(containers(out)[0].image, 'nginx:1.27');
  t.deepEqual(containers(out)[0].env, [{ name: 'A', value: '1' }, { name: 'B', value: 'b' }]);
  t.deepEqual(containers(out)[0].args, ['--a', '--b']);
  t.deepEqual(containers(out)[1], deployment().spec.template.spec.containers[1]);
});

// Kubernetes' PodSpec declares no patch strategy for tolerations or readinessGates, and NodeSpec none
// for taints: a strategic merge patch replaces those lists.
test('Node spec.taints are replaced, not merged by key (NodeSpec.Taints has no patchMergeKey)', (t) => {
  // BUG: mergeKeyFor maps `taints` to merge key "key", so `kubectl patch node --type strategic -p
  // '{"spec":{"taints":[{"key":"b","effect":"NoSchedule"}]}}'` keeps taint "a"; Kubernetes replaces.
  const node = { spec: { taints: [{ key: 'a', effect: 'NoSchedule' }] } };
  const out = strategicMergePatch('Node', node, { spec: { taints: [{ key: 'b', effect: 'NoSchedule' }] } });
  t.deepEqual(out.spec.taints, [{ key: 'b', effect: 'NoSchedule' }]);
});

test('Pod spec.readinessGates are replaced, not merged (PodSpec.ReadinessGates has no patch strategy)', (t) => {
  // BUG: mergeKeyFor maps readinessGates to merge key conditionType.
  const pod = { spec: { readinessGates: [{ conditionType: 'a' }] } };
  const out = strategicMergePatch('Pod', pod, { spec: { readinessGates: [{ conditionType: 'b' }] } });
  t.deepEqual(out.spec.readinessGates, [{ conditionType: 'b' }]);
});

// ---------------------------------------------------------------------------------------------
// Directives of the wrong shape: 400s with Kubernetes' mergepatch wording, nothing applied
// ---------------------------------------------------------------------------------------------

const badDirectives: [string, Record<string, unknown>, number, string][] = [
  ['$deleteFromPrimitiveList of a number', { metadata: { '$deleteFromPrimitiveList/finalizers': 5 } }, 400, 'invalid patch format of primitive list'],
  ['$deleteFromPrimitiveList of null', { metadata: { '$deleteFromPrimitiveList/finalizers': null } }, 400, 'invalid patch format of primitive list'],
  ['$setElementOrder of a string', { spec: { template: { spec: { '$setElementOrder/containers': 'a' } } } }, 400, 'invalid patch format of setElementOrder list'],
  ['$retainKeys of a number', { spec: { strategy: { $retainKeys: 7, type: 'Recreate' } } }, 400, 'invalid patch format of retainKeys'],
  ['$retainKeys with a non-string', { spec: { strategy: { $retainKeys: ['type', 1], type: 'Recreate' } } }, 400, 'invalid patch format of retainKeys'],
  ['$retainKeys not naming a field the patch sets', { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: {} } } }, 422, "patch content doesn't match retainKeys list"],
  ['$patch of an unknown type', { spec: { strategy: { $patch: 'bogus' } } }, 400, 'unknown patch type: bogus in map'],
  ['$patch of a number', { spec: { $patch: 5 } }, 400, 'unknown patch type: 5 in map'],
  ['$patch in a new list element', { spec: { template: { spec: { containers: [{ name: 'new', $patch: 'bogus' }] } } } }, 400, 'unknown patch type: bogus in map'],
];

for (const [name, patch, code, message] of badDirectives) {
  test(`strategicMergePatch refuses ${name} with ${code}`, (t) => {
    const original = deployment();
    const before = structuredClone(original);
    const err = t.throws(() => strategicMergePatch('Deployment', original, patch)) as { code?: number; message: string };
    t.is(err.code, code);
    t.is(err.message, message);
    t.deepEqual(original, before);
  });
}

test('strategicMergePatch: $retainKeys may leave out a field the patch deletes (null)', (t) => {
  const out = strategicMergePatch('Deployment', deployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } });
  t.deepEqual(out.spec.strategy, { type: 'Recreate' });
});
