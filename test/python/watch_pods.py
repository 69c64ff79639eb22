"""watch.Watch().stream(list_namespaced_pod) from a list's resourceVersion: the pod created is
ADDED, MODIFIED as it is scheduled and starts, and DELETED once deleted (deleted from within the
loop as soon as it runs). Usage: watch_pods.py KUBECONFIG NAMESPACE"""
import sys
import time

from kubernetes import client, watch

from wharf_client import api_client, busybox_pod, describe, emit

kubeconfig_path, namespace = sys.argv[1:3]
core = client.CoreV1Api(api_client(kubeconfig_path))
events = []
began = time.monotonic()
result = {'events': events, 'error': None, 'streamEnded': False}
try:
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    start = core.list_namespaced_pod(namespace).metadata.resource_version
    core.create_namespaced_pod(namespace, busybox_pod('watched', ['sleep', '3600']))
    deleting = False
    stream = watch.Watch()
    for event in stream.stream(core.list_namespaced_pod, namespace, resource_version=start, timeout_seconds=60):
        pod = event['object']
        events.append({
            'type': event['type'],
            'class': type(pod).__name__,
            'name': pod.metadata.name,
            'resourceVersion': pod.metadata.resource_version,
            'phase': pod.status.phase if pod.status else None,
            'deleting': pod.metadata.deletion_timestamp is not None,
            'seconds': round(time.monotonic() - began, 2),
        })
        if event['type'] == 'MODIFIED' and pod.status and pod.status.phase == 'Running' and not deleting:
            deleting = True
            core.delete_namespaced_pod('watched', namespace)
        if event['type'] == 'DELETED':
            stream.stop()
    else:
        result['streamEnded'] = not events or events[-1]['type'] != 'DELETED'
except Exception as err:  # reported, for the test to show
    result['error'] = describe(err)
emit(result)
