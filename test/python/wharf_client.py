"""What the scripts of test/integration/python-client.test.ts share: a client of the official
Python library (Debian's python3-kubernetes) for the Wharf cluster whose kubeconfig (its CA and
the admin token, over HTTPS) is named on the command line,
the one JSON document each script prints for the test to assert on, and how a failure is told."""
import json
import sys
import time

from kubernetes import client, config as kubeconfig
from kubernetes.client.rest import ApiException


def api_client(kubeconfig_path):
    """A client configured by the kubeconfig alone, as a user's: the server, the CA it trusts, the token."""
    configuration = client.Configuration()
    kubeconfig.load_kube_config(config_file=kubeconfig_path, client_configuration=configuration)
    return client.ApiClient(configuration)


def emit(result):
    print(json.dumps(result, default=str))
    sys.stdout.flush()


def describe(err):
    """A failure as the test reports it: the server's answer for an HTTP error, else the client's own complaint."""
    if isinstance(err, ApiException):
        return 'HTTP %s %s: %s' % (err.status, err.reason, (err.body or '').strip()[:600])
    return '%s: %s' % (type(err).__name__, err)


def wait_for(predicate, what, timeout=30.0, interval=0.1):
    """Polls until predicate() returns something truthy, and returns it; raises TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except ApiException as err:
            last = err
        time.sleep(interval)
    raise TimeoutError('timed out waiting for %s%s' % (what, ': ' + describe(last) if last else ''))


def busybox_pod(name, command, labels=None):
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels or {'app': name}),
        spec=client.V1PodSpec(
            termination_grace_period_seconds=1,
            containers=[client.V1Container(name='main', image='busybox:latest', image_pull_policy='IfNotPresent', command=command)],
        ),
    )
