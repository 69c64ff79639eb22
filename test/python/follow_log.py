"""read_namespaced_pod_log(follow=True, _preload_content=False) streams the lines a running pod
prints, as it prints them (one every 0.2 s here). Usage: follow_log.py KUBECONFIG NAMESPACE"""
import sys
import time

from kubernetes import client

from wharf_client import api_client, busybox_pod, describe, emit, wait_for

WANTED = 8
kubeconfig_path, namespace = sys.argv[1:3]
core = client.CoreV1Api(api_client(kubeconfig_path))
lines = []
result = {'lines': lines, 'secondsFollowed': None, 'ended': False, 'error': None}
try:
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    core.create_namespaced_pod(namespace, busybox_pod('counter', ['sh', '-c', 'i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.2; done']))
    wait_for(lambda: core.read_namespaced_pod('counter', namespace).status.phase == 'Running', 'the pod to run')
    response = core.read_namespaced_pod_log('counter', namespace, follow=True, _preload_content=False, _request_timeout=20)
    started = time.monotonic()
    pending = b''
    try:
        for chunk in response.stream(amt=None, decode_content=False):
            pending += chunk
            *complete, pending = pending.split(b'\n')
            lines.extend(line.decode() for line in complete)
            if len(lines) >= WANTED and time.monotonic() - started > 1:
                break
        else:
            result['ended'] = True
    finally:
        result['secondsFollowed'] = round(time.monotonic() - started, 2)
        response.close()
        response.release_conn()
except Exception as err:  # reported, for the test to show
    result['error'] = describe(err)
emit(result)
