// `kubectl autoscale` posts its autoscaling/v1 HorizontalPodAutoscaler as protobuf: the body,
// written field by field as generated.proto numbers them, decodes to the JSON Go writes for the
// same object (what `kubectl autoscale --dry-run=client -o json` prints), and a v2 one too.
import test from 'ava';
import { decodeProtobuf } from '../../services/api/protobuf.ts';
import { envelope, len, num } from '../helpers/protobuf-wire.ts';


const ref = len(1, len(1, 'Deployment'), len(2, 'api'), len(3, 'apps/v1'));

test('autoscaling/v1: kubectl autoscale deploy/api --cpu-percent=50 --min=1 --max=5', (t) => {
  const body = envelope('autoscaling/v1', 'HorizontalPodAutoscaler',
    len(1, len(1, 'api'), len(8)),
    len(2, ref, num(2, 1), num(3, 5), num(4, 50)),
    len(3, num(3, 0), num(4, 0)),
  );
  t.deepEqual(decodeProtobuf(body), {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'api', creationTimestamp: null },
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'api', apiVersion: 'apps/v1' }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50 },
    status: { currentReplicas: 0, desiredReplicas: 0 },
  });
});

test('autoscaling/v2: metrics with a quantity target and a behavior', (t) => {
  const target = len(2, len(1, 'AverageValue'), len(3, len(1, '100Mi')));
  const body = envelope('autoscaling/v2', 'HorizontalPodAutoscaler',
    len(1, len(1, 'api'), len(8)),
    len(2, ref, num(3, 5),
      len(4, len(1, 'Resource'), len(4, len(1, 'memory'), target)),
      len(5, len(2, len(1, 'Max'), len(2, len(1, 'Pods'), num(2, 1), num(3, 60)), num(3, 30)))),
  );
  t.deepEqual(decodeProtobuf(body), {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'api', creationTimestamp: null },
    spec: {
      scaleTargetRef: { kind: 'Deployment', name: 'api', apiVersion: 'apps/v1' },
      maxReplicas: 5,
      metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } }],
      behavior: { scaleDown: { selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }], stabilizationWindowSeconds: 30 } },
    },
    status: { desiredReplicas: 0 },
  });
});
