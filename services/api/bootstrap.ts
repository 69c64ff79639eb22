// The namespaces every cluster has, created on start-up by whichever API server gets there first.
import type { Store } from '../../shared/store/store.ts';
import { isAlreadyExists } from '../../shared/errors.ts';
import type { Logger } from '../../shared/log.ts';
import { sleep } from '../../shared/util.ts';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function ensureSystemNamespaces(store: Store, log: Logger): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      for (const name of SYSTEM_NAMESPACES) {
        if (await store.get('namespaces', undefined, name)) continue;
        try {
          await store.create('namespaces', {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
            spec: { finalizers: ['kubernetes'] },
            status: { phase: 'Active' },
          });
        } catch (err) {
          if (!isAlreadyExists(err)) throw err;
        }
      }
      return;
    } catch (err) {
      // Redis may still be starting: keep trying rather than exit.
      log.warn({ err: (err as Error).message, attempt }, 'could not create system namespaces yet');
      await sleep(Math.min(200 * 2 ** attempt, 2000));
    }
  }
}
