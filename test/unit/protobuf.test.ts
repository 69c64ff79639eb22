// The protobuf request decoder (services/api/protobuf.ts), against bodies captured from the real
// kubectl v1.32: each `kubectl create` generator, `kubectl debug`, and `kubectl drain`'s
// DeleteOptions, sent through a logging proxy to a Wharf API server on loopback (the proxy stored
// every `application/vnd.kubernetes.protobuf` body). A `create` body must decode to exactly the
// JSON the same kubectl prints for the command with `--dry-run=client -o json` — Go's JSON of the
// same object; the others have no dry run, and their JSON below says how it was checked. The files
// the generators read: greeting.txt = "hello\n", blob.bin = 00 01 02 ff, and a throwaway P-256
// test certificate and key made with openssl for the tls secret.
import test, { type ExecutionContext } from 'ava';
import { decodeProtobuf, decodeMessage, messageFor, MESSAGES, MAX_DEPTH, PROTOBUF } from '../../services/api/protobuf.ts';
import { defineMessages, type Message } from '../../services/api/protobuf/schema.ts';
import { RESOURCES, apiVersionOf } from '../../shared/api/resources.ts';
import { ApiError, BadRequestError, UnsupportedMediaTypeError } from '../../shared/errors.ts';
import { envelope, key, len, num, varint } from '../helpers/protobuf-wire.ts';

const fromBase64 = (s: string) => Buffer.from(s, 'base64');

// ---------------------------------------------------------------------------------------------
// Bodies from the real kubectl
// ---------------------------------------------------------------------------------------------

interface Fixture {
  command: string;
  body: string;
  json: unknown;
}

/** `kubectl <command>`'s body, and its `--dry-run=client -o json` output. */
const CREATE: Fixture[] = [
  {
    command: 'create deployment web --image=nginx:1',
    body:
      'azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50Eq0BCh8KA3dlYhIAGgAiACoAMgA4AEIAWgoKA2FwcBIDd2ViEnwIARIMCgoKA2Fw' +
        'cBIDd2ViGmIKHAoAEgAaACIAKgAyADgAQgBaCgoDYXBwEgN3ZWISQhIkCgVuZ2lueBIHbmdpbng6MSoAQgBqAHIAgAEAiAEAkAEA' +
        'ogEAGgAyAEIASgBSAFgAYABoAIIBAIoBAJoBAMIBACICCgAoADgAGgwIABAAGAAgACgAOAAaACIA',
    json: {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: { name: 'web', creationTimestamp: null, labels: { app: 'web' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { creationTimestamp: null, labels: { app: 'web' } },
          spec: { containers: [{ name: 'nginx', image: 'nginx:1', resources: {} }] },
        },
        strategy: {},
      },
      status: {},
    },
  },
  {
    command: 'create deployment zero --image=nginx:1 --replicas=0',
    body:
      'azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50ErEBCiEKBHplcm8SABoAIgAqADIAOABCAFoLCgNhcHASBHplcm8SfggAEg0KCwoD' +
        'YXBwEgR6ZXJvGmMKHQoAEgAaACIAKgAyADgAQgBaCwoDYXBwEgR6ZXJvEkISJAoFbmdpbngSB25naW54OjEqAEIAagByAIABAIgB' +
        'AJABAKIBABoAMgBCAEoAUgBYAGAAaACCAQCKAQCaAQDCAQAiAgoAKAA4ABoMCAAQABgAIAAoADgAGgAiAA==',
    json: {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: { name: 'zero', creationTimestamp: null, labels: { app: 'zero' } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'zero' } },
        template: {
          metadata: { creationTimestamp: null, labels: { app: 'zero' } },
          spec: { containers: [{ name: 'nginx', image: 'nginx:1', resources: {} }] },
        },
        strategy: {},
      },
      status: {},
    },
  },
  {
    command: 'create deployment three --image=nginx:1 --image=busybox:1 --replicas=3 --port=80',
    body:
      'azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50Eu0BCiMKBXRocmVlEgAaACIAKgAyADgAQgBaDAoDYXBwEgV0aHJlZRK3AQgDEg4K' +
        'DAoDYXBwEgV0aHJlZRqaAQoeCgASABoAIgAqADIAOABCAFoMCgNhcHASBXRocmVlEngSMAoFbmdpbngSB25naW54OjEqADIKCgAQ' +
        'ABhQIgAqAEIAagByAIABAIgBAJABAKIBABIoCgdidXN5Ym94EglidXN5Ym94OjEqAEIAagByAIABAIgBAJABAKIBABoAMgBCAEoA' +
        'UgBYAGAAaACCAQCKAQCaAQDCAQAiAgoAKAA4ABoMCAAQABgAIAAoADgAGgAiAA==',
    json: {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: { name: 'three', creationTimestamp: null, labels: { app: 'three' } },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'three' } },
        template: {
          metadata: { creationTimestamp: null, labels: { app: 'three' } },
          spec: {
            containers: [
              { name: 'nginx', image: 'nginx:1', ports: [{ containerPort: 80 }], resources: {} },
              { name: 'busybox', image: 'busybox:1', resources: {} },
            ],
          },
        },
        strategy: {},
      },
      status: {},
    },
  },
  {
    command: 'create job pi --image=busybox:1 -- echo hi',
    body:
      'azhzAAoPCghiYXRjaC92MRIDSm9iEoYBChIKAnBpEgAaACIAKgAyADgAQgASZjJkChAKABIAGgAiACoAMgA4AEIAElASLQoCcGkS' +
        'CWJ1c3lib3g6MRoEZWNobxoCaGkqAEIAagByAIABAIgBAJABAKIBABoFTmV2ZXIyAEIASgBSAFgAYABoAIIBAIoBAJoBAMIBABoI' +
        'IAAoADAAOgAaACIA',
    json: {
      kind: 'Job',
      apiVersion: 'batch/v1',
      metadata: { name: 'pi', creationTimestamp: null },
      spec: {
        template: {
          metadata: { creationTimestamp: null },
          spec: {
            containers: [{ name: 'pi', image: 'busybox:1', command: ['echo', 'hi'], resources: {} }],
            restartPolicy: 'Never',
          },
        },
      },
      status: {},
    },
  },
  {
    command: 'create cronjob tick --image=busybox:1 --schedule=\'*/5 * * * *\' --restart=OnFailure -- date',
    body:
      'azhzAAoTCghiYXRjaC92MRIHQ3JvbkpvYhKtAQoUCgR0aWNrEgAaACIAKgAyADgAQgASkgEKCyovNSAqICogKiAqGgAqgAEKFAoE' +
        'dGljaxIAGgAiACoAMgA4AEIAEmgyZgoQCgASABoAIgAqADIAOABCABJSEisKBHRpY2sSCWJ1c3lib3g6MRoEZGF0ZSoAQgBqAHIA' +
        'gAEAiAEAkAEAogEAGglPbkZhaWx1cmUyAEIASgBSAFgAYABoAIIBAIoBAJoBAMIBABoAGgAiAA==',
    json: {
      kind: 'CronJob',
      apiVersion: 'batch/v1',
      metadata: { name: 'tick', creationTimestamp: null },
      spec: {
        schedule: '*/5 * * * *',
        jobTemplate: {
          metadata: { name: 'tick', creationTimestamp: null },
          spec: {
            template: {
              metadata: { creationTimestamp: null },
              spec: {
                containers: [{ name: 'tick', image: 'busybox:1', command: ['date'], resources: {} }],
                restartPolicy: 'OnFailure',
              },
            },
          },
        },
      },
      status: {},
    },
  },
  {
    command: 'create job from-cron --from=cronjob/tick',
    body:
      'azhzAAoPCghiYXRjaC92MRIDSm9iEt8CCokBCglmcm9tLWNyb24SABoAIgAqADIAOABCAGIrCiFjcm9uam9iLmt1YmVybmV0ZXMu' +
        'aW8vaW5zdGFudGlhdGUSBm1hbnVhbGpBCgdDcm9uSm9iGgR0aWNrIiQ5N2Q3YzE1Ny03MjRkLTRmZmUtYTUxZi02NjFkZjExZGY2' +
        'MDIqCGJhdGNoL3YxMAESxgEIARABMq8BChAKABIAGgAiACoAMgA4AEIAEpoBEk8KBHRpY2sSCWJ1c3lib3g6MRoEZGF0ZSoAQgBq' +
        'FC9kZXYvdGVybWluYXRpb24tbG9ncgxJZk5vdFByZXNlbnSAAQCIAQCQAQCiAQRGaWxlGglPbkZhaWx1cmUgHjIMQ2x1c3RlckZp' +
        'cnN0QgBKAFIAWABgAGgAcgCCAQCKAQCaARFkZWZhdWx0LXNjaGVkdWxlcsIBAPABATgGSgpOb25JbmRleGVkUAAaCCAAKAAwADoA' +
        'GgAiAA==',
    json: {
      kind: 'Job',
      apiVersion: 'batch/v1',
      metadata: {
        name: 'from-cron',
        creationTimestamp: null,
        annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'CronJob',
            name: 'tick',
            uid: '97d7c157-724d-4ffe-a51f-661df11df602',
            controller: true,
          },
        ],
      },
      spec: {
        parallelism: 1,
        completions: 1,
        backoffLimit: 6,
        template: {
          metadata: { creationTimestamp: null },
          spec: {
            containers: [
              {
                name: 'tick',
                image: 'busybox:1',
                command: ['date'],
                resources: {},
                terminationMessagePath: '/dev/termination-log',
                terminationMessagePolicy: 'File',
                imagePullPolicy: 'IfNotPresent',
              },
            ],
            restartPolicy: 'OnFailure',
            terminationGracePeriodSeconds: 30,
            dnsPolicy: 'ClusterFirst',
            securityContext: {},
            schedulerName: 'default-scheduler',
            enableServiceLinks: true,
          },
        },
        completionMode: 'NonIndexed',
        suspend: false,
      },
      status: {},
    },
  },
  {
    command: 'create service clusterip web --tcp=80:8080 --tcp=443',
    body:
      'azhzAAoNCgJ2MRIHU2VydmljZRKDAQofCgN3ZWISABoAIgAqADIAOABCAFoKCgNhcHASA3dlYhJcChsKBzgwLTgwODASA1RDUBhQ' +
        'IgcIABCQPxoAKAAKGAoDNDQzEgNUQ1AYuwMiBwgAELsDGgAoABIKCgNhcHASA3dlYhoAIglDbHVzdGVySVA6AEIAUgBaAGAAaAAa' +
        'AgoAGgAiAA==',
    json: {
      kind: 'Service',
      apiVersion: 'v1',
      metadata: { name: 'web', creationTimestamp: null, labels: { app: 'web' } },
      spec: {
        ports: [
          { name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 },
          { name: '443', protocol: 'TCP', port: 443, targetPort: 443 },
        ],
        selector: { app: 'web' },
        type: 'ClusterIP',
      },
      status: { loadBalancer: {} },
    },
  },
  {
    command: 'create service clusterip headless --clusterip=None',
    body:
      'azhzAAoNCgJ2MRIHU2VydmljZRJfCikKCGhlYWRsZXNzEgAaACIAKgAyADgAQgBaDwoDYXBwEghoZWFkbGVzcxIuEg8KA2FwcBII' +
        'aGVhZGxlc3MaBE5vbmUiCUNsdXN0ZXJJUDoAQgBSAFoAYABoABoCCgAaACIA',
    json: {
      kind: 'Service',
      apiVersion: 'v1',
      metadata: { name: 'headless', creationTimestamp: null, labels: { app: 'headless' } },
      spec: { selector: { app: 'headless' }, clusterIP: 'None', type: 'ClusterIP' },
      status: { loadBalancer: {} },
    },
  },
  {
    command: 'create service nodeport np --tcp=80:8080 --node-port=30080',
    body:
      'azhzAAoNCgJ2MRIHU2VydmljZRJnCh0KAm5wEgAaACIAKgAyADgAQgBaCQoDYXBwEgJucBJCCh0KBzgwLTgwODASA1RDUBhQIgcI' +
        'ABCQPxoAKIDrARIJCgNhcHASAm5wGgAiCE5vZGVQb3J0OgBCAFIAWgBgAGgAGgIKABoAIgA=',
    json: {
      kind: 'Service',
      apiVersion: 'v1',
      metadata: { name: 'np', creationTimestamp: null, labels: { app: 'np' } },
      spec: {
        ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }],
        selector: { app: 'np' },
        type: 'NodePort',
      },
      status: { loadBalancer: {} },
    },
  },
  {
    command: 'create service loadbalancer lb --tcp=443:8443',
    body:
      'azhzAAoNCgJ2MRIHU2VydmljZRJrCh0KAmxiEgAaACIAKgAyADgAQgBaCQoDYXBwEgJsYhJGCh0KCDQ0My04NDQzEgNUQ1AYuwMi' +
        'BwgAEPtBGgAoABIJCgNhcHASAmxiGgAiDExvYWRCYWxhbmNlcjoAQgBSAFoAYABoABoCCgAaACIA',
    json: {
      kind: 'Service',
      apiVersion: 'v1',
      metadata: { name: 'lb', creationTimestamp: null, labels: { app: 'lb' } },
      spec: {
        ports: [{ name: '443-8443', protocol: 'TCP', port: 443, targetPort: 8443 }],
        selector: { app: 'lb' },
        type: 'LoadBalancer',
      },
      status: { loadBalancer: {} },
    },
  },
  {
    command: 'create service externalname ext --external-name=example.com',
    body:
      'azhzAAoNCgJ2MRIHU2VydmljZRJaCh8KA2V4dBIAGgAiACoAMgA4AEIAWgoKA2FwcBIDZXh0EjMSCgoDYXBwEgNleHQaACIMRXh0' +
        'ZXJuYWxOYW1lOgBCAFILZXhhbXBsZS5jb21aAGAAaAAaAgoAGgAiAA==',
    json: {
      kind: 'Service',
      apiVersion: 'v1',
      metadata: { name: 'ext', creationTimestamp: null, labels: { app: 'ext' } },
      spec: { selector: { app: 'ext' }, type: 'ExternalName', externalName: 'example.com' },
      status: { loadBalancer: {} },
    },
  },
  {
    command: 'create poddisruptionbudget pdb-min --selector=app=web --min-available=1',
    body:
      'azhzAAogCglwb2xpY3kvdjESE1BvZERpc3J1cHRpb25CdWRnZXQSPQoXCgdwZGItbWluEgAaACIAKgAyADgAQgASFgoGCAAQARoA' +
        'EgwKCgoDYXBwEgN3ZWIaCggAGAAgACgAMAAaACIA',
    json: {
      kind: 'PodDisruptionBudget',
      apiVersion: 'policy/v1',
      metadata: { name: 'pdb-min', creationTimestamp: null },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } },
      status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
    },
  },
  {
    command: 'create pdb pdb-max --selector=app=web --max-unavailable=50%',
    body:
      'azhzAAogCglwb2xpY3kvdjESE1BvZERpc3J1cHRpb25CdWRnZXQSQAoXCgdwZGItbWF4EgAaACIAKgAyADgAQgASGRIMCgoKA2Fw' +
        'cBIDd2ViGgkIARAAGgM1MCUaCggAGAAgACgAMAAaACIA',
    json: {
      kind: 'PodDisruptionBudget',
      apiVersion: 'policy/v1',
      metadata: { name: 'pdb-max', creationTimestamp: null },
      spec: { selector: { matchLabels: { app: 'web' } }, maxUnavailable: '50%' },
      status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
    },
  },
  {
    command: 'create pdb pdb-zero --selector=app=web --min-available=0',
    body:
      'azhzAAogCglwb2xpY3kvdjESE1BvZERpc3J1cHRpb25CdWRnZXQSPgoYCghwZGItemVybxIAGgAiACoAMgA4AEIAEhYKBggAEAAa' +
        'ABIMCgoKA2FwcBIDd2ViGgoIABgAIAAoADAAGgAiAA==',
    json: {
      kind: 'PodDisruptionBudget',
      apiVersion: 'policy/v1',
      metadata: { name: 'pdb-zero', creationTimestamp: null },
      spec: { minAvailable: 0, selector: { matchLabels: { app: 'web' } } },
      status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
    },
  },
  {
    command: 'create priorityclass high --value=1000 --description=\'very important\' --preemption-policy=Never',
    body:
      'azhzAAolChRzY2hlZHVsaW5nLms4cy5pby92MRINUHJpb3JpdHlDbGFzcxIyChQKBGhpZ2gSABoAIgAqADIAOABCABDoBxgAIg52' +
        'ZXJ5IGltcG9ydGFudCoFTmV2ZXIaACIA',
    json: {
      kind: 'PriorityClass',
      apiVersion: 'scheduling.k8s.io/v1',
      metadata: { name: 'high', creationTimestamp: null },
      value: 1000,
      description: 'very important',
      preemptionPolicy: 'Never',
    },
  },
  {
    command: 'create priorityclass zero --value=0 --global-default=false',
    body:
      'azhzAAolChRzY2hlZHVsaW5nLms4cy5pby92MRINUHJpb3JpdHlDbGFzcxIyChQKBHplcm8SABoAIgAqADIAOABCABAAGAAiACoU' +
        'UHJlZW1wdExvd2VyUHJpb3JpdHkaACIA',
    json: {
      kind: 'PriorityClass',
      apiVersion: 'scheduling.k8s.io/v1',
      metadata: { name: 'zero', creationTimestamp: null },
      value: 0,
      preemptionPolicy: 'PreemptLowerPriority',
    },
  },
  {
    command: 'create namespace team',
    body:
      'azhzAAoPCgJ2MRIJTmFtZXNwYWNlEhwKFAoEdGVhbRIAGgAiACoAMgA4AEIAEgAaAgoAGgAiAA==',
    json: { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'team', creationTimestamp: null }, spec: {}, status: {} },
  },
  {
    command: 'create configmap literal --from-literal=a=1 --from-literal=empty=',
    body:
      'azhzAAoPCgJ2MRIJQ29uZmlnTWFwEiwKFwoHbGl0ZXJhbBIAGgAiACoAMgA4AEIAEgYKAWESATESCQoFZW1wdHkSABoAIgA=',
    json: {
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { name: 'literal', creationTimestamp: null },
      data: { a: '1', empty: '' },
    },
  },
  {
    command: 'create configmap files --from-file=greeting.txt --from-file=blob.bin',
    body:
      'azhzAAoPCgJ2MRIJQ29uZmlnTWFwEkEKFQoFZmlsZXMSABoAIgAqADIAOABCABIWCgxncmVldGluZy50eHQSBmhlbGxvChoQCghi' +
        'bG9iLmJpbhIEAAEC/xoAIgA=',
    json: {
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { name: 'files', creationTimestamp: null },
      data: { 'greeting.txt': 'hello\n' },
      binaryData: { 'blob.bin': 'AAEC/w==' },
    },
  },
  {
    command: 'create secret generic s --from-literal=password=p --from-literal=empty= --from-file=blob.bin',
    body:
      'azhzAAoMCgJ2MRIGU2VjcmV0EkEKEQoBcxIAGgAiACoAMgA4AEIAEhAKCGJsb2IuYmluEgQAAQL/EgkKBWVtcHR5EgASDQoIcGFz' +
        'c3dvcmQSAXAaABoAIgA=',
    json: {
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: { name: 's', creationTimestamp: null },
      data: { 'blob.bin': 'AAEC/w==', empty: '', password: 'cA==' },
    },
  },
  {
    command: 'create secret docker-registry reg --docker-server=registry.test --docker-username=u --docker-password=p --docker-email=u@registry.test',
    body:
      'azhzAAoMCgJ2MRIGU2VjcmV0Eq8BChMKA3JlZxIAGgAiACoAMgA4AEIAEngKES5kb2NrZXJjb25maWdqc29uEmN7ImF1dGhzIjp7' +
        'InJlZ2lzdHJ5LnRlc3QiOnsidXNlcm5hbWUiOiJ1IiwicGFzc3dvcmQiOiJwIiwiZW1haWwiOiJ1QHJlZ2lzdHJ5LnRlc3QiLCJh' +
        'dXRoIjoiZFRwdyJ9fX0aHmt1YmVybmV0ZXMuaW8vZG9ja2VyY29uZmlnanNvbhoAIgA=',
    json: {
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: { name: 'reg', creationTimestamp: null },
      data: {
        '.dockerconfigjson': 'eyJhdXRocyI6eyJyZWdpc3RyeS50ZXN0Ijp7InVzZXJuYW1lIjoidSIsInBhc3N3b3JkIjoicCIsImVtYWlsIjoidUByZWdpc3RyeS50ZXN0IiwiYXV0aCI6ImRUcHcifX19',
      },
      type: 'kubernetes.io/dockerconfigjson',
    },
  },
  {
    command: 'create secret tls tls --cert=tls.crt --key=tls.key',
    body:
      'azhzAAoMCgJ2MRIGU2VjcmV0Ev4GChMKA3RscxIAGgAiACoAMgA4AEIAEtMECgd0bHMuY3J0EscELS0tLS1CRUdJTiBDRVJUSUZJ' +
        'Q0FURS0tLS0tCk1JSUJnVENDQVNlZ0F3SUJBZ0lVVlZPS3lLWjNCWldZRldDeWlmK1FtdTliZUo4d0NnWUlLb1pJemowRUF3SXcK' +
        'RlRFVE1CRUdBMVVFQXd3S2QyaGhjbVl1ZEdWemREQWdGdzB5TmpFeU1ESXhOekU0TWpaYUdBOHlNVEkyTVRFdwpPREUzTVRneU5s' +
        'b3dGVEVUTUJFR0ExVUVBd3dLZDJoaGNtWXVkR1Z6ZERCWk1CTUdCeXFHU000OUFnRUdDQ3FHClNNNDlBd0VIQTBJQUJFNlpreUIz' +
        'ZWNTd0QzUnF2WUtOSmlTZlpIYzh0YnltY1RWQjZrR3B0bUMySncxeDRPdTgKUkFYTm5VVm16eURqNVJ3eWNPMS9taHdVS3AvMFVt' +
        'ektIZnlqVXpCUk1CMEdBMVVkRGdRV0JCVGhOMEFXUjBkOQpIL3N6VmpjZmFxOFNiK3l2ZnpBZkJnTlZIU01FR0RBV2dCVGhOMEFX' +
        'UjBkOUgvc3pWamNmYXE4U2IreXZmekFQCkJnTlZIUk1CQWY4RUJUQURBUUgvTUFvR0NDcUdTTTQ5QkFNQ0EwZ0FNRVVDSUgvbmMv' +
        'NkpFbmxPZnlveHZaSmUKWkZLN2dNZzJvRngyV0Fnd2lhd0V0SWtoQWlFQTR4MWh1dkxIaG12Y1JDT3V2Z1MwZk1FenJLZnNnRVhQ' +
        'bWZyRApKY1ZkMlZVPQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tChL9AQoHdGxzLmtleRLxAS0tLS0tQkVHSU4gUFJJVkFURSBL' +
        'RVktLS0tLQpNSUdIQWdFQU1CTUdCeXFHU000OUFnRUdDQ3FHU000OUF3RUhCRzB3YXdJQkFRUWc1c0NidDlteURMRDF3RUp6Cnlv' +
        'TUdzZVVGZkJuL2k2WklyMm05Qi8wc0FwV2hSQU5DQUFST21aTWdkM25Fc0E5MGFyMkNqU1lrbjJSM1BMVzgKcG5FMVFlcEJxYlpn' +
        'dGljTmNlRHJ2RVFGeloxRlpzOGc0K1VjTW5EdGY1b2NGQ3FmOUZKc3loMzgKLS0tLS1FTkQgUFJJVkFURSBLRVktLS0tLQoaEWt1' +
        'YmVybmV0ZXMuaW8vdGxzGgAiAA==',
    json: {
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: { name: 'tls', creationTimestamp: null },
      data: {
        'tls.crt': 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJnVENDQVNlZ0F3SUJBZ0lVVlZPS3lLWjNCWldZRldDeWlmK1FtdTliZUo4d0NnWUlLb1pJemowRUF3SXcKRlRFVE1CRUdBMVVFQXd3S2QyaGhjbVl1ZEdWemREQWdGdzB5TmpFeU1ESXhOekU0TWpaYUdBOHlNVEkyTVRFdwpPREUzTVRneU5sb3dGVEVUTUJFR0ExVUVBd3dLZDJoaGNtWXVkR1Z6ZERCWk1CTUdCeXFHU000OUFnRUdDQ3FHClNNNDlBd0VIQTBJQUJFNlpreUIzZWNTd0QzUnF2WUtOSmlTZlpIYzh0YnltY1RWQjZrR3B0bUMySncxeDRPdTgKUkFYTm5VVm16eURqNVJ3eWNPMS9taHdVS3AvMFVtektIZnlqVXpCUk1CMEdBMVVkRGdRV0JCVGhOMEFXUjBkOQpIL3N6VmpjZmFxOFNiK3l2ZnpBZkJnTlZIU01FR0RBV2dCVGhOMEFXUjBkOUgvc3pWamNmYXE4U2IreXZmekFQCkJnTlZIUk1CQWY4RUJUQURBUUgvTUFvR0NDcUdTTTQ5QkFNQ0EwZ0FNRVVDSUgvbmMvNkpFbmxPZnlveHZaSmUKWkZLN2dNZzJvRngyV0Fnd2lhd0V0SWtoQWlFQTR4MWh1dkxIaG12Y1JDT3V2Z1MwZk1FenJLZnNnRVhQbWZyRApKY1ZkMlZVPQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg==',
        'tls.key': 'LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JR0hBZ0VBTUJNR0J5cUdTTTQ5QWdFR0NDcUdTTTQ5QXdFSEJHMHdhd0lCQVFRZzVzQ2J0OW15RExEMXdFSnoKeW9NR3NlVUZmQm4vaTZaSXIybTlCLzBzQXBXaFJBTkNBQVJPbVpNZ2QzbkVzQTkwYXIyQ2pTWWtuMlIzUExXOApwbkUxUWVwQnFiWmd0aWNOY2VEcnZFUUZ6WjFGWnM4ZzQrVWNNbkR0ZjVvY0ZDcWY5RkpzeWgzOAotLS0tLUVORCBQUklWQVRFIEtFWS0tLS0tCg==',
      },
      type: 'kubernetes.io/tls',
    },
  },
];

for (const { command, body, json } of CREATE) {
  test(`kubectl ${command}: the body decodes to the object kubectl prints as JSON`, (t) => {
    t.deepEqual(decodeProtobuf(fromBase64(body)), json);
  });
}

// `kubectl debug rich --copy-to=rich-copy2 --image=busybox:1 --share-processes --same-node
// --set-image=app=nginx:2 --container=debugger -- sleep 1d`, where `rich` was created from
// JSON with nearly every PodSpec feature: kubectl reads the stored pod, clears its status and
// most metadata, adds the container, and sends the copy. What Go's JSON leaves out of what was
// stored: the zero values of omitempty fields (env value "", hostPort 0, initialDelaySeconds 0,
// stdin/tty false, readOnly false); pointers keep theirs (priority 0, tolerationSeconds 0,
// runAsUser 0, secret defaultMode 0, optional false, automountServiceAccountToken false).
const DEBUG_COPY_BODY =
  'azhzAAoJCgJ2MRIDUG9kEugMCiwKCnJpY2gtY29weTISABoHZGVmYXVsdCIAKgAyADgAQgBiCQoEbm90ZRIBeBKlDAoZCgRkYXRh' +
    'EhESDwoGTWVtb3J5EgUKAzFHaQogCgNjZmcSGZoBFgoECgJjbRIJCgFrEgFwGIACGKQDIAEKDgoDc2VjEgcyBQoBcxgAChsKBGhv' +
    'c3QSEwoRCgQvdG1wEglEaXJlY3RvcnkKKgoEZGFwaRIiggEfCh0KBmxhYmVscxITCgASD21ldGFkYXRhLmxhYmVscwpNCgRwcm9q' +
    'EkXSAUIKCBoGCgQKAmNtCgcKBQoDCgFzCg4iDAoAEJAcGgV0b2tlbgodEhsKGQoEbmFtZRIRCgASDW1ldGFkYXRhLm5hbWUKDgoD' +
    'cHZjEgdSBQoBYxAAEuwECgNhcHASB25naW54OjIiAi1nIgtkYWVtb24gb2ZmOyoBLzIRCgRodHRwEAAYUCIDVENQKgAyDgoAEAAY' +
    'gkciA1RDUCoAOgkKBUVNUFRZEgA6CgoFUExBSU4SAXY6GgoHRlJPTV9DTRIAGg0aCwoECgJjbRIBaxgBOh0KC0ZST01fU0VDUkVU' +
    'EgAaDCIKCgMKAXMSAWsYADogCgZQT0RfSVASABoUChIKAnYxEgxzdGF0dXMucG9kSVA6JQoFTElNSVQSABoaEhgKABINbGltaXRz' +
    'Lm1lbW9yeRoFCgMxTWlCQAoKCgNjcHUSAwoBMQoRCgZtZW1vcnkSBwoFMTI4TWkSDQoDY3B1EgYKBDEwMG0SEAoGbWVtb3J5EgYK' +
    'BDY0TWlKEwoEZGF0YRAAGgUvZGF0YSIAMgBKEgoDY2ZnEAEaBC9jZmciAXgyAFI0CigSJgoIL2hlYWx0aHoSCggBEAAaBGh0dHAa' +
    'ACIESFRUUCoGCgFYEgF5EAAYASAFKAEwA1oYCgwaCgoGCAAQUBoAEgAQABgBIAooATADYi8KGBIWCggvc3RhcnRlZBIGCAAQUBoA' +
    'GgAiABITChEKAnNoCgItYwoHc2xlZXAgMWoUL2Rldi90ZXJtaW5hdGlvbi1sb2dyDElmTm90UHJlc2VudHocChAKCU5FVF9BRE1J' +
    'ThIDQUxMEAAgADABOABAAIABAIgBAJABAJoBDwoDQ01fEggKBAoCY20QAZoBCQoAGgUKAwoBc6IBFUZhbGxiYWNrVG9Mb2dzT25F' +
    'cnJvcrIBHAoQCg4KA2NhdAoHL3RtcC9vaxAAGAEgCigBMB4SOAoIZGVidWdnZXISCWJ1c3lib3g6MRoFc2xlZXAaAjFkKgBCAGoA' +
    'cgCAAQCIAQCQAQCiAQRGaWxlGgZBbHdheXMgADIMQ2x1c3RlckZpcnN0OgsKBGRpc2sSA3NzZEIASgBSAFgAYABoAHJJEAAYACAB' +
    'IAIgAyjQDzooCiNuZXQuaXB2NC5pcF91bnByaXZpbGVnZWRfcG9ydF9zdGFydBIBMFIQCg5SdW50aW1lRGVmYXVsdIIBBHJpY2iK' +
    'AQNzdWKSAV8KLgoTChEKDwoEZGlzaxICSW4aA3NzZBIXCAESEwoRCgR6b25lEgVOb3RJbhoCejEaLRIrCGQSJwoNCgsKA2FwcBIE' +
    'cmljaBoWa3ViZXJuZXRlcy5pby9ob3N0bmFtZZoBEWRlZmF1bHQtc2NoZWR1bGVyogFXCgRpbml0EglidXN5Ym94OjEaAnNoGgIt' +
    'YxoEdHJ1ZSoAQgBqFC9kZXYvdGVybWluYXRpb24tbG9ncgxJZk5vdFByZXNlbnSAAQCIAQCQAQCiAQRGaWxlqAEAsgEZCgFrEgVF' +
    'cXVhbBoBdiIKTm9TY2hlZHVsZbIBGgoBdBIGRXhpc3RzGgAiCU5vRXhlY3V0ZSgAsgE2Chxub2RlLmt1YmVybmV0ZXMuaW8vbm90' +
    'LXJlYWR5EgZFeGlzdHMaACIJTm9FeGVjdXRlKKwCsgE4Ch5ub2RlLmt1YmVybmV0ZXMuaW8vdW5yZWFjaGFibGUSBkV4aXN0cxoA' +
    'IglOb0V4ZWN1dGUorAK6ARoKCDEwLjAuMC4xEgZhLnRlc3QSBmIudGVzdMIBAMgBANIBJgoHMS4xLjEuMRIGYS50ZXN0GgoKBW5k' +
    'b3RzEgEyGgcKBWVkbnMw2AEB8AEAigIpCAESBHpvbmUaDlNjaGVkdWxlQW55d2F5Ig8SDQoDYXBwEgZFeGlzdHMaEAoAGgAiACoA' +
    'MgBKAFoAcgAaACIA';

const DEBUG_COPY_JSON = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'rich-copy2', namespace: 'default', creationTimestamp: null, annotations: { note: 'x' } },
  spec: {
    volumes: [
      { name: 'data', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } },
      {
        name: 'cfg',
        configMap: { name: 'cm', items: [{ key: 'k', path: 'p', mode: 256 }], defaultMode: 420, optional: true },
      },
      { name: 'sec', secret: { secretName: 's', defaultMode: 0 } },
      { name: 'host', hostPath: { path: '/tmp', type: 'Directory' } },
      { name: 'dapi', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
      {
        name: 'proj',
        projected: {
          sources: [
            { configMap: { name: 'cm' } },
            { secret: { name: 's' } },
            { serviceAccountToken: { expirationSeconds: 3600, path: 'token' } },
            { downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
          ],
        },
      },
      { name: 'pvc', persistentVolumeClaim: { claimName: 'c' } },
    ],
    containers: [
      {
        name: 'app',
        image: 'nginx:2',
        args: ['-g', 'daemon off;'],
        workingDir: '/',
        ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }, { containerPort: 9090, protocol: 'TCP' }],
        env: [
          { name: 'EMPTY' },
          { name: 'PLAIN', value: 'v' },
          { name: 'FROM_CM', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k', optional: true } } },
          { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k', optional: false } } },
          { name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
          { name: 'LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        ],
        resources: { limits: { cpu: '1', memory: '128Mi' }, requests: { cpu: '100m', memory: '64Mi' } },
        volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'cfg', readOnly: true, mountPath: '/cfg', subPath: 'x' }],
        livenessProbe: {
          httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP', httpHeaders: [{ name: 'X', value: 'y' }] },
          timeoutSeconds: 1,
          periodSeconds: 5,
          successThreshold: 1,
          failureThreshold: 3,
        },
        readinessProbe: { tcpSocket: { port: 80 }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
        lifecycle: {
          postStart: { httpGet: { path: '/started', port: 80 } },
          preStop: { exec: { command: ['sh', '-c', 'sleep 1'] } },
        },
        terminationMessagePath: '/dev/termination-log',
        imagePullPolicy: 'IfNotPresent',
        securityContext: {
          capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] },
          privileged: false,
          runAsUser: 0,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          runAsGroup: 0,
        },
        envFrom: [{ prefix: 'CM_', configMapRef: { name: 'cm', optional: true } }, { secretRef: { name: 's' } }],
        terminationMessagePolicy: 'FallbackToLogsOnError',
        startupProbe: {
          exec: { command: ['cat', '/tmp/ok'] },
          timeoutSeconds: 1,
          periodSeconds: 10,
          successThreshold: 1,
          failureThreshold: 30,
        },
      },
      {
        name: 'debugger',
        image: 'busybox:1',
        command: ['sleep', '1d'],
        resources: {},
        terminationMessagePolicy: 'File',
      },
    ],
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 0,
    dnsPolicy: 'ClusterFirst',
    nodeSelector: { disk: 'ssd' },
    securityContext: {
      runAsUser: 0,
      runAsNonRoot: false,
      supplementalGroups: [1, 2, 3],
      fsGroup: 2000,
      sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
      seccompProfile: { type: 'RuntimeDefault' },
    },
    hostname: 'rich',
    subdomain: 'sub',
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] }] },
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['z1'] }] } }],
      },
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: { labelSelector: { matchLabels: { app: 'rich' } }, topologyKey: 'kubernetes.io/hostname' },
          },
        ],
      },
    },
    schedulerName: 'default-scheduler',
    initContainers: [
      {
        name: 'init',
        image: 'busybox:1',
        command: ['sh', '-c', 'true'],
        resources: {},
        terminationMessagePath: '/dev/termination-log',
        imagePullPolicy: 'IfNotPresent',
        terminationMessagePolicy: 'File',
      },
    ],
    automountServiceAccountToken: false,
    tolerations: [
      { key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' },
      { key: 't', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ],
    hostAliases: [{ ip: '10.0.0.1', hostnames: ['a.test', 'b.test'] }],
    priority: 0,
    dnsConfig: { nameservers: ['1.1.1.1'], searches: ['a.test'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] },
    shareProcessNamespace: true,
    enableServiceLinks: false,
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: 'zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchExpressions: [{ key: 'app', operator: 'Exists' }] },
      },
    ],
  },
  status: {},
};

test('kubectl debug --copy-to: a pod with every PodSpec feature decodes field for field', (t) => {
  t.deepEqual(decodeProtobuf(fromBase64(DEBUG_COPY_BODY)), DEBUG_COPY_JSON);
});

// `kubectl debug node/n1 --image=busybox:1` (the legacy profile): the pod kubectl builds to run on
// the node — the host's root at /host, its network, PID and IPC namespaces, every taint tolerated.
const DEBUG_NODE_BODY =
  'azhzAAoJCgJ2MRIDUG9kEs4BCiYKFm5vZGUtZGVidWdnZXItbjEtbnF4enYSABoAIgAqADIAOABCABKRAQoSCglob3N0LXJvb3QS' +
  'BQoDCgEvEkcKCGRlYnVnZ2VyEglidXN5Ym94OjEqAEIAShgKCWhvc3Qtcm9vdBAAGgUvaG9zdCIAMgBqAHIAgAEAiAEAkAEAogEE' +
  'RmlsZRoFTmV2ZXIyAEIASgBSAm4xWAFgAWgBggEAigEAmgEAsgEOCgASBkV4aXN0cxoAIgDCAQAaEAoAGgAiACoAMgBKAFoAcgAa' +
  'ACIA';

test('kubectl debug node/n1: the node debugging pod', (t) => {
  t.deepEqual(decodeProtobuf(fromBase64(DEBUG_NODE_BODY)), {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'node-debugger-n1-nqxzv', creationTimestamp: null },
    spec: {
      volumes: [{ name: 'host-root', hostPath: { path: '/' } }],
      containers: [
        {
          name: 'debugger',
          image: 'busybox:1',
          resources: {},
          volumeMounts: [{ name: 'host-root', mountPath: '/host' }],
          terminationMessagePolicy: 'File',
        },
      ],
      restartPolicy: 'Never',
      nodeName: 'n1',
      hostNetwork: true,
      hostPID: true,
      hostIPC: true,
      tolerations: [{ operator: 'Exists' }],
    },
    status: {},
  });
});

test('kubectl drain --disable-eviction: DeleteOptions with no grace period, a grace period of 0 (kept: a pointer) and of 30', (t) => {
  t.deepEqual(decodeProtobuf(fromBase64('azhzAAoTCgJ2MRINRGVsZXRlT3B0aW9ucxIAGgAiAA==')), { apiVersion: 'v1', kind: 'DeleteOptions' });
  t.deepEqual(decodeProtobuf(fromBase64('azhzAAoTCgJ2MRINRGVsZXRlT3B0aW9ucxICCAAaACIA')), { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 });
  t.deepEqual(decodeProtobuf(fromBase64('azhzAAoTCgJ2MRINRGVsZXRlT3B0aW9ucxICCB4aACIA')), { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 30 });
});

// ---------------------------------------------------------------------------------------------
// What kubectl never sends, written byte by byte: status types, times, packed lists, merges.
// The expected JSON is what Kubernetes' JSON has for the same Go object.
// ---------------------------------------------------------------------------------------------


const NOV_14_2023 = 1_700_000_000; // 2023-11-14T22:13:20Z

test('Time is whole seconds in RFC 3339, MicroTime keeps microseconds, an empty or unset one is null', (t) => {
  const body = envelope('v1', 'Event',
    len(1, len(1, 'e'), len(8, num(1, NOV_14_2023), num(2, 999_999_999))),
    len(6), // firstTimestamp: the zero time
    len(10, num(1, NOV_14_2023), num(2, 123_456_789)),
    len(11, num(1, 0), len(2, num(1, NOV_14_2023 + 1))), // series: its count is omitempty here
  );
  t.deepEqual(decodeProtobuf(body), {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'e', creationTimestamp: '2023-11-14T22:13:20Z' },
    involvedObject: {},
    source: {},
    firstTimestamp: null,
    lastTimestamp: null,
    eventTime: '2023-11-14T22:13:20.123456Z',
    series: { lastObservedTime: '2023-11-14T22:13:21.000000Z' },
    reportingComponent: '',
    reportingInstance: '',
  });
  // events.k8s.io's EventSeries has no omitempty on its count.
  const modern = envelope('events.k8s.io/v1', 'Event', len(1, len(1, 'e')), len(2, num(1, NOV_14_2023)), len(3, num(1, 0)), len(10, 'hello'));
  t.deepEqual(decodeProtobuf(modern), {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: 'e', creationTimestamp: null },
    eventTime: '2023-11-14T22:13:20.000000Z',
    series: { count: 0, lastObservedTime: null },
    regarding: {},
    note: 'hello',
    deprecatedSource: {},
    deprecatedFirstTimestamp: null,
    deprecatedLastTimestamp: null,
  });
});

test('IntOrString is a number or a string; an unset one is 0; negative int32 and int64 arrive sign-extended', (t) => {
  const body = envelope('v1', 'Service', len(2,
    len(1, len(1, 'http'), num(3, 80), len(4, num(1, 1), len(3, 'web'))),
    len(1, num(3, 81), len(4, num(1, 0), num(2, 8081))),
    len(1, num(3, 82)),
    num(12, -1), // healthCheckNodePort, written as ten bytes
  ));
  t.deepEqual(decodeProtobuf(body), {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { creationTimestamp: null },
    spec: {
      ports: [
        { name: 'http', port: 80, targetPort: 'web' },
        { port: 81, targetPort: 8081 },
        { port: 82, targetPort: 0 },
      ],
      healthCheckNodePort: -1,
    },
    status: { loadBalancer: {} },
  });
  const pod = decodeProtobuf(envelope('v1', 'Pod', len(2, num(5, -30n), num(25, -5))));
  t.like(pod, { spec: { activeDeadlineSeconds: -30, priority: -5 } });
});

test('repeated numbers come packed or one by one; a packed run may be empty', (t) => {
  const packed = Buffer.concat([varint(1), varint(2), varint(300)]);
  const body = envelope('v1', 'Pod', len(2, len(14, len(4, packed), num(4, 4), len(4))));
  t.deepEqual((decodeProtobuf(body) as any).spec.securityContext, { supplementalGroups: [1, 2, 300, 4] });
  const empty = envelope('v1', 'Pod', len(2, len(14, len(4))));
  t.deepEqual((decodeProtobuf(empty) as any).spec.securityContext, {});
});

test('maps: entries without a value hold the zero, the last of a repeated key wins, bytes are base64, any key is data', (t) => {
  const body = envelope('v1', 'Secret',
    len(1, len(11, len(1, '__proto__'), len(2, 'x')), len(11, len(1, 'a'), len(2, '1')), len(11, len(1, 'a'), len(2, '2'))),
    len(2, len(1, 'empty')),
    len(2, len(1, 'bin'), len(2, Buffer.from([0, 1, 2, 0xff]))),
  );
  const secret = decodeProtobuf(body) as any;
  t.deepEqual(secret.data, { empty: '', bin: 'AAEC/w==' });
  t.is(Object.getPrototypeOf(secret.metadata.labels), Object.prototype);
  t.deepEqual(Object.entries(secret.metadata.labels), [['__proto__', 'x'], ['a', '2']]);
});

test('unknown fields of every wire type are skipped; a message given twice is merged, a scalar given twice is the last', (t) => {
  const fixed64 = Buffer.concat([key(98, 1), Buffer.alloc(8)]);
  const fixed32 = Buffer.concat([key(96, 5), Buffer.alloc(4)]);
  const body = envelope('apps/v1', 'Deployment',
    num(99, 7), fixed64, len(97, num(1, 1)), fixed32,
    len(1, len(1, 'first')),
    len(2, num(1, 2)),
    len(1, len(1, 'web')),
    len(2, num(5, 10)),
  );
  t.deepEqual(decodeProtobuf(body), {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', creationTimestamp: null },
    spec: { replicas: 2, minReadySeconds: 10, template: { metadata: { creationTimestamp: null }, spec: { containers: null } }, strategy: {} },
    status: {},
  });
});

test('status types: quantities, conditions, nested structs written whole, managed fields as JSON', (t) => {
  const fields = '{"f:status":{"f:capacity":{}}}';
  const body = envelope('v1', 'Node',
    len(1, len(1, 'n1'), len(17, len(1, 'wharf'), len(2, 'Apply'), len(4, num(1, NOV_14_2023)), len(6, 'FieldsV1'), len(7, len(1, fields)))),
    len(3,
      len(1, len(1, 'cpu'), len(2, len(1, '2'))),
      len(1, len(1, 'memory'), len(2, len(1, '4Gi'))),
      len(2, len(1, 'pods')), // a quantity left unset is "0"
      len(4, len(1, 'Ready'), len(2, 'True'), len(3, num(1, NOV_14_2023))),
      len(8, num(2, 1024)),
    ),
  );
  t.deepEqual(decodeProtobuf(body), {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: 'n1',
      creationTimestamp: null,
      managedFields: [{ manager: 'wharf', operation: 'Apply', time: '2023-11-14T22:13:20Z', fieldsType: 'FieldsV1', fieldsV1: JSON.parse(fields) }],
    },
    spec: {},
    status: {
      capacity: { cpu: '2', memory: '4Gi' },
      allocatable: { pods: '0' },
      conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2023-11-14T22:13:20Z', lastTransitionTime: null }],
      daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
      nodeInfo: {
        machineID: '', systemUUID: '', bootID: '', kernelVersion: '', osImage: '',
        containerRuntimeVersion: '', kubeletVersion: '', kubeProxyVersion: '', operatingSystem: '', architecture: '',
      },
      images: [{ names: null, sizeBytes: 1024 }],
    },
  });
});

test('Scale, Eviction and DeleteOptions: omitempty drops a zero, pointers keep theirs', (t) => {
  t.deepEqual(decodeProtobuf(envelope('autoscaling/v1', 'Scale', len(1, len(1, 'web')), len(2, num(1, 0)), len(3, num(1, 0)))), {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: { name: 'web', creationTimestamp: null },
    spec: {},
    status: { replicas: 0 },
  });
  const options = Buffer.concat([num(1, 0), len(2, len(1, 'uid-1')), num(3, 0), len(4, 'Foreground'), len(5, 'All')]);
  t.deepEqual(decodeProtobuf(envelope('policy/v1', 'Eviction', len(1, len(1, 'p'), len(3, 'default')), len(2, options))), {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: 'p', namespace: 'default', creationTimestamp: null },
    deleteOptions: { gracePeriodSeconds: 0, preconditions: { uid: 'uid-1' }, orphanDependents: false, propagationPolicy: 'Foreground', dryRun: ['All'] },
  });
  t.like(decodeProtobuf(envelope('meta.k8s.io/v1', 'DeleteOptions', len(4, 'Orphan'))), { apiVersion: 'meta.k8s.io/v1', propagationPolicy: 'Orphan' });
});

// ---------------------------------------------------------------------------------------------
// The tables
// ---------------------------------------------------------------------------------------------

test('every kind Wharf serves has a message, and so do events.k8s.io Events, Scale, Eviction and DeleteOptions', (t) => {
  // KEDA's kinds are custom resources in Kubernetes, which serves those as JSON only (415 for protobuf).
  // CustomResourceDefinitions and webhook configurations are served as JSON only here for now (Kubernetes has protobuf messages for them; not yet written).
  const custom = (r: { group: string }) => /(^|\.)keda\.sh$/.test(r.group) || r.group === 'apiextensions.k8s.io' || r.group === 'admissionregistration.k8s.io';
  for (const r of RESOURCES) if (!custom(r)) t.truthy(messageFor(apiVersionOf(r), r.kind), `${apiVersionOf(r)} ${r.kind}`);
  t.is(messageFor('http.keda.sh/v1alpha1', 'HTTPScaledObject'), undefined);
  t.is(messageFor('keda.sh/v1alpha1', 'ScaledObject'), undefined);
  t.is(messageFor('events.k8s.io/v1', 'Event')?.name, 'events.Event');
  t.is(messageFor('v1', 'Event')?.name, 'Event');
  t.truthy(messageFor('autoscaling/v1', 'Scale'));
  t.truthy(messageFor('policy/v1', 'Eviction'));
  for (const v of ['v1', 'meta.k8s.io/v1', 'apps/v1', 'policy/v1']) t.is(messageFor(v, 'DeleteOptions')?.name, 'DeleteOptions');
  t.is(messageFor('apps/v1beta1', 'Deployment'), undefined);
});

function depthOf(message: Message, path: string[] = []): number {
  if (path.includes(message.name)) throw new Error(`the tables recurse: ${[...path, message.name].join(' > ')}`);
  let deepest = 0;
  for (const field of message.fields.values()) if (field.message) deepest = Math.max(deepest, depthOf(field.message, [...path, message.name]));
  return deepest + 1;
}

function countValues(value: unknown): number {
  if (value === null || typeof value !== 'object') return 1;
  return 1 + Object.values(value).reduce<number>((sum, v) => sum + countValues(v), 0);
}

test('the tables are a tree well within MAX_DEPTH, and an empty message writes only a few values', (t) => {
  const depths = [...MESSAGES.values()].map((m) => depthOf(m));
  t.true(Math.max(...depths) <= MAX_DEPTH / 2, `deepest: ${Math.max(...depths)}`);
  // What zero structs a message writes bounds what each (two-byte) empty element of a list costs.
  for (const message of MESSAGES.values()) t.true(countValues(decodeMessage(Buffer.alloc(0), message)) <= 40, message.name);
});

test('the field lines are read strictly', (t) => {
  t.throws(() => defineMessages({ M: { 1: 'name String?' } }), { message: /cannot read/ });
  t.throws(() => defineMessages({ M: { 1: 'child Missing' } }), { message: /no message Missing/ });
  t.throws(() => defineMessages({ M: { 1: 'n *int32 always' } }), { message: /never "always"/ });
});

// ---------------------------------------------------------------------------------------------
// Malformed bodies: a 400 naming the field, at once
// ---------------------------------------------------------------------------------------------

function badRequest(t: ExecutionContext, body: Buffer, message: RegExp | string): void {
  const err = t.throws(() => decodeProtobuf(body), { instanceOf: BadRequestError });
  t.is(err?.code, 400);
  if (typeof message === 'string') t.is(err?.message, message);
  else t.regex(err?.message ?? '', message);
}

test('a body without the envelope, or a broken envelope, is a 400', (t) => {
  badRequest(t, Buffer.from('{"kind":"Pod"}'), 'protobuf: the body does not start with the Kubernetes protobuf envelope');
  badRequest(t, Buffer.from('k8s'), /envelope/);
  badRequest(t, Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from([0x0a, 0xff])]), 'protobuf: envelope: truncated varint');
  badRequest(t, Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from([0x12, 0x10, 0x00])]), 'protobuf: envelope: length 16 runs past the end of the body');
  badRequest(t, Buffer.concat([Buffer.from('k8s\0', 'latin1'), num(1, 3)]), 'protobuf: envelope: wire type 0 where 2 was expected');
  badRequest(t, Buffer.concat([envelope('v1', 'ConfigMap'), len(3, 'gzip')]), 'protobuf: content encoding "gzip" is not supported');
});

test('malformed objects are a 400 that names the field', (t) => {
  const deployment = (...raw: Buffer[]) => envelope('apps/v1', 'Deployment', ...raw);
  badRequest(t, deployment(len(2, Buffer.from([0x08, 0xff]))), 'protobuf: spec.replicas: truncated varint');
  badRequest(t, deployment(Buffer.from([0x0a, 0x64]), Buffer.from('abc')), 'protobuf: metadata: length 100 runs past the end of the body');
  badRequest(t, deployment(len(1, num(1, 5))), 'protobuf: metadata.name: wire type 0 where 2 was expected');
  badRequest(t, deployment(len(2, len(3, len(2, len(2, len(1, 'a'), len(6, len(3, 'x'))))))), 'protobuf: spec.template.spec.containers[0].ports[0].containerPort: wire type 2 where 0 was expected');
  badRequest(t, deployment(key(50, 3)), 'protobuf: unsupported wire type 3');
  badRequest(t, deployment(Buffer.from([0x78])), 'protobuf: truncated varint');
  badRequest(t, deployment(Buffer.from([0x00, 0x00])), 'protobuf: field number 0');
  badRequest(t, deployment(Buffer.concat([key(99, 1), Buffer.alloc(3)])), 'protobuf: truncated fixed-width field');
  badRequest(t, deployment(len(2, Buffer.from([0x08, ...Array(10).fill(0xff), 0x01]))), 'protobuf: spec.replicas: varint longer than 10 bytes');
  badRequest(t, deployment(len(2, Buffer.from([0x08, ...Array(9).fill(0xff), 0x02]))), 'protobuf: spec.replicas: varint overflows 64 bits');
  const pod = (...spec: Buffer[]) => envelope('v1', 'Pod', len(2, ...spec));
  badRequest(t, pod(len(2, len(1, 'c'), len(8, len(1, len(1, 'cpu'), len(2, len(1, 'lots')))))), 'protobuf: spec.containers[0].resources.limits: quantity "lots" is not a valid quantity');
  badRequest(t, envelope('v1', 'Pod', len(1, len(17, len(7, len(1, '{not json'))))), 'protobuf: metadata.managedFields[0].fieldsV1: fieldsV1 is not JSON');
  badRequest(t, envelope('v1', 'Pod', len(1, len(8, num(1, 10n ** 15n)))), 'protobuf: metadata.creationTimestamp: time 1000000000000000s is out of range');
  badRequest(t, envelope('v1', 'Event', len(10, num(1, 1), num(2, -1))), 'protobuf: eventTime: nanos -1 out of range');
});

test('a kind without a message is a 415 that tells the client to send JSON', (t) => {
  for (const [apiVersion, kind] of [['storage.k8s.io/v1', 'CSIDriver'], ['apps/v1beta1', 'Deployment']]) {
    const err = t.throws(() => decodeProtobuf(envelope(apiVersion, kind)), { instanceOf: UnsupportedMediaTypeError });
    t.is(err?.code, 415);
    t.true(err?.message.endsWith(`(got "${PROTOBUF} (for ${kind} ${apiVersion}; send application/json)")`), err?.message);
  }
  badRequest(t, envelope('v1', ''), 'protobuf: the envelope names no kind');
});

test('every prefix of a real body is a 400, and any corrupted byte a 400, a 415 or an object', (t) => {
  const body = fromBase64(DEBUG_COPY_BODY);
  const decoded: number[] = [];
  for (let n = 0; n < body.length; n++) {
    try {
      decodeProtobuf(body.subarray(0, n));
      decoded.push(n);
    } catch (err) {
      t.true(err instanceof BadRequestError, `prefix of ${n} bytes: ${String(err)}`);
    }
  }
  // Only cuts between the envelope's fields make a whole envelope: after its type (a Pod without a
  // single field), and after the object, before the empty contentEncoding and contentType.
  t.deepEqual(decoded, [15, body.length - 4, body.length - 2]);
  // A fixed pseudo-random sequence, so that a failure is the same on every run.
  let seed = 12345;
  const random = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % below;
  };
  const outcomes = { decoded: 0, refused: 0 };
  for (let i = 0; i < 3000; i++) {
    const copy = Buffer.from(body);
    for (let flips = 1 + random(3); flips > 0; flips--) copy[4 + random(copy.length - 4)] = random(256);
    try {
      decodeProtobuf(copy);
      outcomes.decoded++;
    } catch (err) {
      if (!(err instanceof ApiError) || (err.code !== 400 && err.code !== 415)) return t.fail(`corruption ${i}: ${String(err)}`);
      outcomes.refused++;
    }
  }
  t.true(outcomes.decoded > 0 && outcomes.refused > 0, JSON.stringify(outcomes));
});

test('nesting deeper than MAX_DEPTH is a 400; the check holds whatever the tables', (t) => {
  const nest = defineMessages({ Nest: { 1: 'child *Nest' } }).get('Nest')!;
  const nested = (levels: number) => {
    let body = Buffer.alloc(0);
    for (let i = 0; i < levels; i++) body = len(1, body);
    return body;
  };
  t.notThrows(() => decodeMessage(nested(MAX_DEPTH - 1), nest));
  t.throws(() => decodeMessage(nested(MAX_DEPTH + 5), nest), { instanceOf: BadRequestError, message: new RegExp(`nest deeper than ${MAX_DEPTH}`) });
  // An unknown field is skipped by its length, whatever it holds: no descent, no limit.
  t.like(decodeProtobuf(envelope('v1', 'ConfigMap', len(1, len(1, 'c')), len(99, nested(10_000)))), { metadata: { name: 'c' } });
});

test('a body of the largest size the API server takes decodes in one pass, into no more values than JSON of its size', (t) => {
  const size = 3 * 1024 * 1024;
  // Data: one ConfigMap value of 3 MiB.
  const started = Date.now();
  const big = decodeProtobuf(envelope('v1', 'ConfigMap', len(2, len(1, 'k'), len(2, Buffer.alloc(size, 'x'))))) as any;
  t.is(big.data.k.length, size);
  // Empty container statuses: two bytes each, each written out as its zero struct of 8 values.
  const empty = len(8);
  const statuses = (count: number) => envelope('v1', 'Pod', len(3, Buffer.concat(Array(count).fill(empty))));
  const pod = decodeProtobuf(statuses(1000)) as any;
  t.deepEqual(pod.status.containerStatuses[999], { name: '', state: {}, lastState: {}, ready: false, restartCount: 0, image: '', imageID: '' });
  badRequest(t, statuses(size / empty.length), /^protobuf: status\.containerStatuses\[\d+\]: the body decodes to more than 1582\d\d\d values, more than JSON of its size could hold$/);
  t.log(`decoded and refused in ${Date.now() - started} ms`);
});

test('RBAC kinds and access reviews decode as kubectl create role|rolebinding and kubectl auth can-i send them', (t) => {
  const role = envelope('rbac.authorization.k8s.io/v1', 'Role',
    len(1, len(1, 'pod-reader'), len(3, 'ns1')),
    len(2, len(1, 'get'), len(1, 'list'), len(2, ''), len(3, 'pods')),
    len(2, len(1, 'get'), len(2, ''), len(3, 'pods/log'), len(4, 'web')),
  );
  t.deepEqual(decodeProtobuf(role), {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'pod-reader', namespace: 'ns1', creationTimestamp: null },
    rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }, { verbs: ['get'], apiGroups: [''], resources: ['pods/log'], resourceNames: ['web'] }],
  });
  const binding = envelope('rbac.authorization.k8s.io/v1', 'RoleBinding',
    len(1, len(1, 'read-pods')),
    len(2, len(1, 'ServiceAccount'), len(3, 'sa'), len(4, 'ns1')),
    len(2, len(1, 'User'), len(2, 'rbac.authorization.k8s.io'), len(3, 'jane')),
    len(3, len(1, 'rbac.authorization.k8s.io'), len(2, 'Role'), len(3, 'pod-reader')),
  );
  t.deepEqual(decodeProtobuf(binding), {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'read-pods', creationTimestamp: null },
    subjects: [{ kind: 'ServiceAccount', name: 'sa', namespace: 'ns1' }, { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'jane' }],
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
  });
  const aggregated = envelope('rbac.authorization.k8s.io/v1', 'ClusterRole', len(1, len(1, 'agg')), len(3, len(1, len(1, len(1, 'k'), len(2, 'v')))));
  t.deepEqual(decodeProtobuf(aggregated), {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'agg', creationTimestamp: null },
    rules: null,
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { k: 'v' } }] },
  });
  const review = envelope('authorization.k8s.io/v1', 'SelfSubjectAccessReview', len(1), len(2, len(1, len(1, 'default'), len(2, 'create'), len(5, 'pods'))), len(3));
  t.deepEqual(decodeProtobuf(review), {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    metadata: { creationTimestamp: null },
    spec: { resourceAttributes: { namespace: 'default', verb: 'create', resource: 'pods' } },
    status: { allowed: false },
  });
  const rules = envelope('authorization.k8s.io/v1', 'SelfSubjectRulesReview', len(1), len(2, len(1, 'ns1')));
  t.deepEqual(decodeProtobuf(rules), { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', metadata: { creationTimestamp: null }, spec: { namespace: 'ns1' } });
});
