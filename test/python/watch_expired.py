"""A watch from a resourceVersion the server has compacted away (it keeps WHARF_WATCH_HISTORY
events a kind) ends in a 410; the script then relists and watches on from the list, as an informer
does. Usage: watch_expired.py KUBECONFIG NAMESPACE CHURN"""
import sys

from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from wharf_client import api_client, describe, emit

kubeconfig_path, namespace, churn = sys.argv[1], sys.argv[2], int(sys.argv[3])
core = client.CoreV1Api(api_client(kubeconfig_path))
result = {'expired': None, 'eventsBeforeExpiry': [], 'relisted': None, 'resumed': [], 'error': None}
try:
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    old = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name='churn'), data={'n': '0'}))
    for n in range(1, churn + 1):
        core.patch_namespaced_config_map('churn', namespace, {'data': {'n': str(n)}})

    # With timeout_seconds the client does not retry on its own: the 410 surfaces at once, as an
    # ApiException (whether the server sends it as an ERROR event or as the response's status).
    try:
        for event in watch.Watch().stream(core.list_namespaced_config_map, namespace, resource_version=old, timeout_seconds=10):
            result['eventsBeforeExpiry'].append(event['type'])
            if len(result['eventsBeforeExpiry']) > churn:
                break
    except ApiException as err:
        result['expired'] = {'status': err.status, 'reason': err.reason}

    listed = core.list_namespaced_config_map(namespace)
    result['relisted'] = {item.metadata.name: item.data for item in listed.items}
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name='after-relist')))
    resumed = watch.Watch()
    for event in resumed.stream(core.list_namespaced_config_map, namespace, resource_version=listed.metadata.resource_version, timeout_seconds=10):
        result['resumed'].append({'type': event['type'], 'name': event['object'].metadata.name})
        if event['object'].metadata.name == 'after-relist':
            resumed.stop()
except Exception as err:  # reported, for the test to show
    result['error'] = describe(err)
emit(result)
