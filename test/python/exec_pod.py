"""kubernetes.stream.stream(connect_get_namespaced_pod_exec): the client's WebSocket exec (the
v4 channel protocol) runs a command in a running pod, keeps stdout and stderr apart, feeds stdin,
and reads the exit code from the error channel's Status. Usage: exec_pod.py KUBECONFIG NAMESPACE"""
import sys

from kubernetes import client
from kubernetes.stream import stream

from wharf_client import api_client, busybox_pod, describe, emit, wait_for

kubeconfig_path, namespace = sys.argv[1:3]
core = client.CoreV1Api(api_client(kubeconfig_path))
result = {'error': None}
try:
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    core.create_namespaced_pod(namespace, busybox_pod('shell', ['sleep', '3600']))
    wait_for(lambda: core.read_namespaced_pod('shell', namespace).status.phase == 'Running', 'the pod to run')

    resp = stream(core.connect_get_namespaced_pod_exec, 'shell', namespace,
                  command=['sh', '-c', 'echo out; echo err >&2; exit 3'],
                  stdout=True, stderr=True, stdin=False, tty=False, _preload_content=False)
    resp.run_forever(timeout=60)
    result['failing'] = {'stdout': resp.read_stdout(), 'stderr': resp.read_stderr(), 'returncode': resp.returncode}
    resp.close()

    resp = stream(core.connect_get_namespaced_pod_exec, 'shell', namespace, command=['sh', '-c', 'read line; echo "got $line"'],
                  stdout=True, stderr=True, stdin=True, tty=False, _preload_content=False)
    resp.write_stdin('typed\n')
    resp.run_forever(timeout=60)
    result['stdin'] = {'stdout': resp.read_stdout(), 'returncode': resp.returncode}
    resp.close()

    # The simplest use, which most scripts make: the whole output as one string.
    result['simple'] = stream(core.connect_get_namespaced_pod_exec, 'shell', namespace, command=['echo', 'simple'],
                              stdout=True, stderr=True, stdin=False, tty=False)
except Exception as err:  # reported, for the test to show
    result['error'] = describe(err)
emit(result)
