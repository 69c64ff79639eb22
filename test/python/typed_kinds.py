"""Every kind Wharf serves, created (where a client creates it), read and listed through the typed
API of the official Python client, which deserializes each answer into its models and refuses one
that lacks a field its model requires. Each kind is tried on its own; a failure is reported with
the client's complaint and what the server answered. Usage: typed_kinds.py KUBECONFIG NAMESPACE NODE"""
import datetime
import json
import sys

from kubernetes import client
from kubernetes.client.rest import ApiException

from wharf_client import api_client, busybox_pod, describe, emit, wait_for

kubeconfig_path, namespace, node = sys.argv[1:4]
api = api_client(kubeconfig_path)
core = client.CoreV1Api(api)
apps = client.AppsV1Api(api)
batch = client.BatchV1Api(api)
events = client.EventsV1Api(api)
coordination = client.CoordinationV1Api(api)
policy = client.PolicyV1Api(api)
scheduling = client.SchedulingV1Api(api)
discovery = client.DiscoveryV1Api(api)
autoscaling = client.AutoscalingV1Api(api)
storage = client.StorageV1Api(api)
now = datetime.datetime.now(datetime.timezone.utc)
priority_class = 'python-client-%s' % namespace
storage_name = 'py-storage-%s' % namespace


def meta(name, **labels):
    return client.V1ObjectMeta(name=name, labels=labels or None)


def template(app, restart_policy=None, command=None):
    pod = busybox_pod(app, command or ['sleep', '3600'])
    pod.spec.restart_policy = restart_policy
    return client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels={'app': app}), spec=pod.spec)


def select(app):
    return client.V1LabelSelector(match_labels={'app': app})


def raw(path):
    """The server's answer as it is, without the client's models (with the kubeconfig's token, as the typed calls send it)."""
    return api.call_api(path, 'GET', response_type='object', auth_settings=['BearerToken'], _return_http_data_only=True)


ns_path = '/api/v1/namespaces/%s' % namespace
apps_path = '/apis/apps/v1/namespaces/%s' % namespace
batch_path = '/apis/batch/v1/namespaces/%s' % namespace

# kind: (create, read, list, the object's path, what shows its controller has written its status)
KINDS = {
    'Namespace': (
        lambda: core.create_namespace(client.V1Namespace(metadata=meta(namespace))),
        lambda: core.read_namespace(namespace),
        lambda: core.list_namespace(),
        ns_path, lambda o: o.get('status', {}).get('phase') == 'Active'),
    'Pod': (
        lambda: core.create_namespaced_pod(namespace, busybox_pod('py-pod', ['sleep', '3600'])),
        lambda: core.read_namespaced_pod('py-pod', namespace),
        lambda: core.list_namespaced_pod(namespace),
        ns_path + '/pods/py-pod', lambda o: o.get('status', {}).get('phase') == 'Running'),
    'Service': (
        lambda: core.create_namespaced_service(namespace, client.V1Service(metadata=meta('py-svc'), spec=client.V1ServiceSpec(
            selector={'app': 'py-pod'}, ports=[client.V1ServicePort(name='http', port=80, target_port=8080)]))),
        lambda: core.read_namespaced_service('py-svc', namespace),
        lambda: core.list_namespaced_service(namespace),
        ns_path + '/services/py-svc', None),
    'Endpoints': (
        lambda: core.create_namespaced_endpoints(namespace, client.V1Endpoints(metadata=meta('py-ep'), subsets=[client.V1EndpointSubset(
            addresses=[client.V1EndpointAddress(ip='10.1.2.3')], ports=[client.CoreV1EndpointPort(name='http', port=80)])])),
        lambda: core.read_namespaced_endpoints('py-ep', namespace),
        lambda: core.list_namespaced_endpoints(namespace),
        ns_path + '/endpoints/py-ep', None),
    'Event': (
        lambda: core.create_namespaced_event(namespace, client.CoreV1Event(
            metadata=meta('py-event'), involved_object=client.V1ObjectReference(kind='Pod', namespace=namespace, name='py-pod', api_version='v1'),
            reason='Tested', message='created by the Python client', type='Normal', count=1, first_timestamp=now, last_timestamp=now,
            # events.k8s.io/v1 requires eventTime of every Event, and this client refuses to read one
            # without it (on Kubernetes too): a core Event that the events.k8s.io list below must read has one.
            event_time=now, source=client.V1EventSource(component='python-client-test'))),
        lambda: core.read_namespaced_event('py-event', namespace),
        lambda: core.list_namespaced_event(namespace),
        ns_path + '/events/py-event', None),
    'Event (events.k8s.io/v1)': (
        lambda: events.create_namespaced_event(namespace, client.EventsV1Event(
            metadata=meta('py-event-v1'), event_time=now, action='Testing', reason='Tested', note='created by the Python client', type='Normal',
            reporting_controller='wharf.io/python-client-test', reporting_instance='python-client-test',
            regarding=client.V1ObjectReference(kind='Pod', namespace=namespace, name='py-pod', api_version='v1'))),
        lambda: events.read_namespaced_event('py-event-v1', namespace),
        lambda: events.list_namespaced_event(namespace),
        '/apis/events.k8s.io/v1/namespaces/%s/events/py-event-v1' % namespace, None),
    'ConfigMap': (
        lambda: core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=meta('py-cm'), data={'greeting': 'hello'})),
        lambda: core.read_namespaced_config_map('py-cm', namespace),
        lambda: core.list_namespaced_config_map(namespace),
        ns_path + '/configmaps/py-cm', None),
    'Secret': (
        lambda: core.create_namespaced_secret(namespace, client.V1Secret(metadata=meta('py-secret'), string_data={'password': 's3cret'})),
        lambda: core.read_namespaced_secret('py-secret', namespace),
        lambda: core.list_namespaced_secret(namespace),
        ns_path + '/secrets/py-secret', None),
    'Deployment': (
        lambda: apps.create_namespaced_deployment(namespace, client.V1Deployment(metadata=meta('py-deploy'), spec=client.V1DeploymentSpec(
            replicas=1, selector=select('py-deploy'), template=template('py-deploy')))),
        lambda: apps.read_namespaced_deployment('py-deploy', namespace),
        lambda: apps.list_namespaced_deployment(namespace),
        apps_path + '/deployments/py-deploy', lambda o: 'observedGeneration' in o.get('status', {})),
    'ReplicaSet': (
        lambda: apps.create_namespaced_replica_set(namespace, client.V1ReplicaSet(metadata=meta('py-rs'), spec=client.V1ReplicaSetSpec(
            replicas=1, selector=select('py-rs'), template=template('py-rs')))),
        lambda: apps.read_namespaced_replica_set('py-rs', namespace),
        lambda: apps.list_namespaced_replica_set(namespace),
        apps_path + '/replicasets/py-rs', lambda o: 'observedGeneration' in o.get('status', {})),
    'DaemonSet': (
        lambda: apps.create_namespaced_daemon_set(namespace, client.V1DaemonSet(metadata=meta('py-ds'), spec=client.V1DaemonSetSpec(
            selector=select('py-ds'), template=template('py-ds')))),
        lambda: apps.read_namespaced_daemon_set('py-ds', namespace),
        lambda: apps.list_namespaced_daemon_set(namespace),
        apps_path + '/daemonsets/py-ds', lambda o: 'observedGeneration' in o.get('status', {})),
    'StatefulSet': (
        lambda: apps.create_namespaced_stateful_set(namespace, client.V1StatefulSet(metadata=meta('py-sts'), spec=client.V1StatefulSetSpec(
            service_name='py-sts', selector=select('py-sts'), template=template('py-sts')))),
        lambda: apps.read_namespaced_stateful_set('py-sts', namespace),
        lambda: apps.list_namespaced_stateful_set(namespace),
        apps_path + '/statefulsets/py-sts', lambda o: 'observedGeneration' in o.get('status', {})),
    'ControllerRevision': (
        lambda: apps.create_namespaced_controller_revision(namespace, client.V1ControllerRevision(metadata=meta('py-rev'), revision=1,
            data={'spec': {'template': {'metadata': {'labels': {'app': 'py-rev'}}, '$patch': 'replace'}}})),
        lambda: apps.read_namespaced_controller_revision('py-rev', namespace),
        lambda: apps.list_namespaced_controller_revision(namespace),
        apps_path + '/controllerrevisions/py-rev', None),
    'HorizontalPodAutoscaler (autoscaling/v1)': (
        lambda: autoscaling.create_namespaced_horizontal_pod_autoscaler(namespace, client.V1HorizontalPodAutoscaler(metadata=meta('py-hpa'), spec=client.V1HorizontalPodAutoscalerSpec(
            scale_target_ref=client.V1CrossVersionObjectReference(api_version='apps/v1', kind='Deployment', name='py-deploy'), max_replicas=3, target_cpu_utilization_percentage=60))),
        lambda: autoscaling.read_namespaced_horizontal_pod_autoscaler('py-hpa', namespace),
        lambda: autoscaling.list_namespaced_horizontal_pod_autoscaler(namespace),
        '/apis/autoscaling/v1/namespaces/%s/horizontalpodautoscalers/py-hpa' % namespace, None),
    'Job': (
        lambda: batch.create_namespaced_job(namespace, client.V1Job(metadata=meta('py-job'), spec=client.V1JobSpec(
            backoff_limit=0, template=template('py-job', restart_policy='Never', command=['true'])))),
        lambda: batch.read_namespaced_job('py-job', namespace),
        lambda: batch.list_namespaced_job(namespace),
        batch_path + '/jobs/py-job', lambda o: 'startTime' in o.get('status', {})),
    'CronJob': (
        lambda: batch.create_namespaced_cron_job(namespace, client.V1CronJob(metadata=meta('py-cron'), spec=client.V1CronJobSpec(
            schedule='0 0 1 1 *', job_template=client.V1JobTemplateSpec(spec=client.V1JobSpec(
                template=template('py-cron', restart_policy='OnFailure', command=['true'])))))),
        lambda: batch.read_namespaced_cron_job('py-cron', namespace),
        lambda: batch.list_namespaced_cron_job(namespace),
        batch_path + '/cronjobs/py-cron', None),
    'Lease': (
        lambda: coordination.create_namespaced_lease(namespace, client.V1Lease(metadata=meta('py-lease'), spec=client.V1LeaseSpec(
            holder_identity='python-client-test', lease_duration_seconds=15, lease_transitions=0, acquire_time=now, renew_time=now))),
        lambda: coordination.read_namespaced_lease('py-lease', namespace),
        lambda: coordination.list_namespaced_lease(namespace),
        '/apis/coordination.k8s.io/v1/namespaces/%s/leases/py-lease' % namespace, None),
    'PodDisruptionBudget': (
        lambda: policy.create_namespaced_pod_disruption_budget(namespace, client.V1PodDisruptionBudget(metadata=meta('py-pdb'), spec=client.V1PodDisruptionBudgetSpec(
            min_available=1, selector=select('py-deploy')))),
        lambda: policy.read_namespaced_pod_disruption_budget('py-pdb', namespace),
        lambda: policy.list_namespaced_pod_disruption_budget(namespace),
        '/apis/policy/v1/namespaces/%s/poddisruptionbudgets/py-pdb' % namespace, lambda o: 'observedGeneration' in o.get('status', {})),
    'PriorityClass': (
        lambda: scheduling.create_priority_class(client.V1PriorityClass(metadata=meta(priority_class), value=1000, description='made by the Python client test')),
        lambda: scheduling.read_priority_class(priority_class),
        lambda: scheduling.list_priority_class(),
        '/apis/scheduling.k8s.io/v1/priorityclasses/%s' % priority_class, None),
    'EndpointSlice': (
        lambda: discovery.create_namespaced_endpoint_slice(namespace, client.V1EndpointSlice(
            metadata=meta('py-slice', **{'kubernetes.io/service-name': 'py-svc'}), address_type='IPv4',
            endpoints=[client.V1Endpoint(addresses=['10.1.2.3'], conditions=client.V1EndpointConditions(ready=True))],
            ports=[client.DiscoveryV1EndpointPort(name='http', port=80, protocol='TCP')])),
        lambda: discovery.read_namespaced_endpoint_slice('py-slice', namespace),
        lambda: discovery.list_namespaced_endpoint_slice(namespace),
        '/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices/py-slice' % namespace, None),
    'StorageClass': (
        lambda: storage.create_storage_class(client.V1StorageClass(metadata=meta(storage_name), provisioner='example.com/py', volume_binding_mode='WaitForFirstConsumer')),
        lambda: storage.read_storage_class(storage_name),
        lambda: storage.list_storage_class(),
        '/apis/storage.k8s.io/v1/storageclasses/%s' % storage_name, None),
    'PersistentVolume': (
        lambda: core.create_persistent_volume(client.V1PersistentVolume(metadata=meta(storage_name), spec=client.V1PersistentVolumeSpec(
            capacity={'storage': '1Gi'}, access_modes=['ReadWriteOnce'], storage_class_name=storage_name,
            host_path=client.V1HostPathVolumeSource(path='/tmp/%s' % storage_name)))),
        lambda: core.read_persistent_volume(storage_name),
        lambda: core.list_persistent_volume(),
        '/api/v1/persistentvolumes/%s' % storage_name, lambda o: o.get('status', {}).get('phase') == 'Available'),
    'PersistentVolumeClaim': (
        lambda: core.create_namespaced_persistent_volume_claim(namespace, client.V1PersistentVolumeClaim(metadata=meta('py-pvc'), spec=client.V1PersistentVolumeClaimSpec(
            access_modes=['ReadWriteOnce'], storage_class_name='', resources=client.V1ResourceRequirements(requests={'storage': '1Gi'})))),
        lambda: core.read_namespaced_persistent_volume_claim('py-pvc', namespace),
        lambda: core.list_namespaced_persistent_volume_claim(namespace),
        ns_path + '/persistentvolumeclaims/py-pvc', lambda o: o.get('status', {}).get('phase') == 'Pending'),
    'Node': (
        None,
        lambda: core.read_node(node),
        lambda: core.list_node(),
        '/api/v1/nodes/%s' % node, None),
}


def attempt(kind, step, call, path):
    try:
        answer = call()
        return {'ok': True, 'class': type(answer).__name__}
    except Exception as err:  # reported, for the test to show
        failure = {'ok': False, 'error': describe(err), 'refused': isinstance(err, ApiException)}
        try:
            obj = raw(path)
            failure['serverAnswered'] = json.dumps(obj.get('status', obj) if step != 'list' else obj.get('status', {}))[:800]
        except Exception as raw_err:  # the raw read fails too: say so
            failure['serverAnswered'] = describe(raw_err)
        return failure


# All are created first, so the controllers and the node work on them at the same time.
results = {kind: {} for kind in KINDS}
for kind, (create, _, _, path, _) in KINDS.items():
    if create:
        results[kind]['create'] = attempt(kind, 'create', create, path)
for kind, (_, read, list_all, path, settled) in KINDS.items():
    steps = results[kind]
    # An answer the client could not read still created the object: read it all the same.
    if steps.get('create', {}).get('refused'):
        continue
    if settled:
        try:
            wait_for(lambda: settled(raw(path)), '%s status from its controller' % kind, timeout=20)
        except Exception as err:  # reported, for the test to show
            steps['settle'] = {'ok': False, 'error': describe(err)}
    steps['read'] = attempt(kind, 'read', read, path)
    steps['list'] = attempt(kind, 'list', list_all, path)
emit({'results': results})
