// Every Redis key, stream and queue name Wharf uses comes from here, so the layout of the state
// store can be read in one place.

export class Keys {
  constructor(readonly prefix: string) {}

  /**
   * Hash of the cluster's public credentials, readable by every Wharf process: the cluster CA's
   * certificate ("ca.crt"), the ServiceAccount token verification keys ("sa.pub"). Node agents
   * read it to verify the API server's client certificate. Outside `<prefix>:*`, which the Redis
   * users of controllers, schedulers and agents may write: they may only read this key
   * (shared/redis-acl.ts).
   */
  get clusterPublicCredentials(): string {
    return `${this.prefix}-credentials:public`;
  }

  /**
   * Hash of the cluster's private credentials: the CA's key ("ca.key"), the ServiceAccount signing
   * key ("sa.key"), the admin token's digest. Only API servers read it: Redis ACLs keep every other
   * process's user away from this one key, which lies outside `<prefix>:*` (the keys the other
   * users may read) for that reason (shared/redis-acl.ts).
   */
  get clusterPrivateCredentials(): string {
    return `${this.prefix}-credentials:private`;
  }

  /**
   * List of node agents' requests for their pods' ServiceAccount tokens (JSON), which API servers
   * pop and answer: the agents never hold the signing key (see shared/auth/token-queue.ts).
   */
  get tokenRequests(): string {
    return `${this.prefix}:tokenrequests`;
  }

  /** List that receives the answer to one token request, read (and so removed) by the agent that asked. */
  tokenReply(requestId: string): string {
    return `${this.prefix}:tokenreply:${requestId}`;
  }

  /** The cluster's single, monotonically increasing resourceVersion counter. */
  get resourceVersion(): string {
    return `${this.prefix}:rv`;
  }

  /**
   * The Redis replication id (INFO's master_replid) of the primary that made the last object write:
   * a write that finds another one was made by a newly promoted replica (write-object.lua).
   */
  get resourceVersionEpoch(): string {
    return `${this.prefix}:rv-epoch`;
  }

  /**
   * Sorted set of the resourceVersions skipped at each failover: member the last resourceVersion
   * the new primary had, score the first it issued. Versions strictly between them may have been
   * issued by the old primary and lost with it: a watch resuming from one must relist (410).
   */
  get lostResourceVersions(): string {
    return `${this.prefix}:rv-lost`;
  }

  /** Hash: object name -> JSON, one per (resource, namespace); cluster-scoped kinds use namespace ''. */
  objects(resource: string, namespace: string): string {
    return `${this.prefix}:obj:${resource}:${namespace}`;
  }

  /**
   * Sorted set of "namespace/name" (cluster-scoped kinds: "/name") of every object of a resource,
   * all scores 0 so members sort by bytes: a page of a list is one ZRANGEBYLEX instead of sorting
   * every name of the resource.
   */
  objectIndex(resource: string): string {
    return `${this.prefix}:objindex:${resource}`;
  }

  /**
   * Set once objectIndex(resource) also holds the objects written before that index existed;
   * until then paged lists of the resource read the objects hashes instead.
   */
  objectIndexBuilt(resource: string): string {
    return `${this.prefix}:objindex-built:${resource}`;
  }

  /** Set of namespaces that hold at least one object of a resource, for cluster-wide lists. */
  namespacesOf(resource: string): string {
    return `${this.prefix}:objns:${resource}`;
  }

  /**
   * Change stream of one resource: entry id `<rv>-0`, fields t (event type), o (the object as
   * stored: JSON, or encrypted) and k ("resource|namespace|name", what an encrypted value is
   * authenticated with).
   */
  stream(resource: string): string {
    return `${this.prefix}:events:${resource}`;
  }

  /**
   * The view stream of a resource whose strategy has a view (Strategy.view): entries as stream()'s,
   * the object being the view, written only when a write changes it. Named as a stream of its own
   * (with its own compaction marker, compacted(viewOf(resource))), so that the ACLs' stream rules
   * and the informers cover it. A sharded view (Strategy.viewShard) has a stream a shard.
   */
  viewOf(resource: string, shard = ''): string {
    return shard ? `view:${resource}:${shard}` : `view:${resource}`;
  }

  /** Highest resourceVersion that may have been trimmed from a resource's stream. */
  compacted(resource: string): string {
    return `${this.prefix}:compacted:${resource}`;
  }

  /** Hash: uid -> "resource|namespace|name" for every live object (garbage collection looks owners up by uid). */
  get uids(): string {
    return `${this.prefix}:uids`;
  }

  /** Hash: a unique value ("clusterip:10.96.0.7", "nodeport:TCP:30080") -> uid of the object holding it. */
  get claims(): string {
    return `${this.prefix}:claims`;
  }

  /**
   * The resourceVersion a write produced, kept for a few minutes under the write's own id, so that
   * the same write sent again (ioredis re-sends what was in flight when a connection dropped)
   * answers as the first run did instead of failing its own compare-and-set.
   */
  writeRecord(writeId: string): string {
    return `${this.prefix}:write:${writeId}`;
  }

  /** Set of "resource|namespace|name" of the objects that name `ownerUid` in their ownerReferences. */
  dependents(ownerUid: string): string {
    return `${this.prefix}:dependents:${ownerUid}`;
  }

  /**
   * Hash per node: alloc.cpu / alloc.memory / alloc.pods (from the Node's allocatable),
   * used.cpu / used.memory / used.pods, and one field per charged pod uid ("cpu mem").
   * Binding a pod charges it atomically; terminal or deleted pods are released.
   */
  nodeUsage(node: string): string {
    return `${this.prefix}:nodeusage:${node}`;
  }

  /** Hash of the pod network's allocated node blocks (node IPAM): field = block index, value = node name. */
  get podCidrs(): string {
    return `${this.prefix}:podcidrs`;
  }

  /** Per-key counter that advances when a worker starts reconciling the key (see WorkQueue). */
  workEpoch(queue: string, key: string): string {
    return `${this.prefix}:epoch:${queue}:${key}`;
  }

  /** Per-key lock held while one worker reconciles the key, so no key runs twice at once. */
  workLock(queue: string, key: string): string {
    return `${this.prefix}:lock:${queue}:${key}`;
  }

  /**
   * Held (SET NX PX, for about a period) by the replica of a component whose turn it is to do
   * what one replica does for all (the controller managers' periodic resync, the schedulers'
   * start-up sweep), so that N replicas do not each relist everything.
   */
  resyncTurn(component: string): string {
    return `${this.prefix}:resyncturn:${component}`;
  }

  /**
   * Sorted set of a component's live replicas (member: its identity; score: when it lapses, ms of
   * Redis' clock), renewed by each replica while it runs: the schedulers share the nodes out by it.
   */
  members(component: string): string {
    return `${this.prefix}:members:${component}`;
  }

  /** Prefix for BullMQ's own keys. */
  get bullPrefix(): string {
    return `${this.prefix}-bull`;
  }

  /** Pod restart back-off state, per pod uid and container. */
  backoff(podUid: string): string {
    return `${this.prefix}:backoff:${podUid}`;
  }

  /**
   * Hash per namespace: pod name -> the pod's latest resource usage sample (JSON PodUsage, see
   * shared/resource-metrics.ts), written by the node agent that runs it. Readers skip stale samples.
   */
  podMetrics(namespace: string): string {
    return `${this.prefix}:metrics:pods:${namespace}`;
  }

  /** Set of namespaces that have had a pod usage sample: where a cluster-wide read looks. */
  get podMetricsNamespaces(): string {
    return `${this.prefix}:metrics:podns`;
  }

  /**
   * JSON of one HorizontalPodAutoscaler's recent recommendations and scale events (by the HPA's
   * uid), so that whichever controller-manager replica syncs it next stabilizes over the same
   * history. Expires a while after the HPA's last sync.
   */
  hpaHistory(uid: string): string {
    return `${this.prefix}:hpa-history:${uid}`;
  }

  /** Hash: node name -> the node's latest resource usage sample (JSON NodeUsage). */
  get nodeMetrics(): string {
    return `${this.prefix}:metrics:nodes`;
  }

  /**
   * String per ScaledObject (by uid): what the HPA-like behavior of its controller remembers between
   * polls (recent recommendations and scale events, JSON), kept outside any one process so that
   * several controller managers may poll it in turn. Expires on its own after the longest window.
   */
  scalingHistory(uid: string): string {
    return `${this.prefix}:scalinghistory:${uid}`;
  }

  /**
   * Hash per Service behind an HTTPScaledObject: its TCP traffic as the node agents' service
   * proxies see it (see shared/http-traffic.ts): one field per node ("n:<node>", its latest report)
   * and one per second of connections opened ("s:<unix second>", summed by every node's HINCRBY).
   */
  serviceTraffic(namespace: string, name: string): string {
    return `${this.prefix}:traffic:${namespace}/${name}`;
  }

  /** Pub/sub channel on which a service proxy says "namespace/name" holds connections for a Service at zero. */
  get activationChannel(): string {
    return `${this.prefix}:activate`;
  }

  /**
   * The replicas an HTTPScaledObject's Deployment had when the object first took it over (by the
   * object's uid): restored when the object is deleted, as KEDA's restoreToOriginalReplicaCount.
   */
  httpScaleOriginalReplicas(uid: string): string {
    return `${this.prefix}:httpscaleoriginal:${uid}`;
  }

  /** Sorted set per HTTPScaledObject: its recent replica recommendations, for scale-down stabilization. */
  httpScaleRecommendations(namespace: string, name: string): string {
    return `${this.prefix}:httpscalerecs:${namespace}/${name}`;
  }

  /** Where a node agent's log/exec endpoint can be reached (host:port), for the API server's proxy. */
  get agentEndpoints(): string {
    return `${this.prefix}:agents`;
  }

  /**
   * Node name -> the queue of the process hosting that node, for nodes that are not served by a
   * queue of their own (simulated nodes, many to a process). A node missing here has QUEUES.node.
   */
  get nodeQueueRoutes(): string {
    return `${this.prefix}:nodequeues`;
  }

  /**
   * Sorted set of "namespace/name" of the pods the schedulers found no room for, scored by pod
   * priority, to retry (highest first) when a node changes or a pod frees room, without listing
   * every pod (kube-scheduler's unschedulable queue).
   */
  get unschedulablePods(): string {
    return `${this.prefix}:unschedulablepods`;
  }

  /**
   * Sorted set per namespace of the writes that charged its ResourceQuotas and are not yet written
   * (token, scored by when the marker lapses): the quota controller does not recompute usage while
   * any is in flight (see shared/quota/admission.ts).
   */
  quotaAdmissions(namespace: string): string {
    return `${this.prefix}:quotaadmissions:${namespace}`;
  }
}

/** Queue names (BullMQ forbids ':' in them). */
export const QUEUES = {
  schedule: 'schedule',
  controller: (name: string) => `controller-${name}`,
  node: (nodeName: string) => `node-${nodeName}`,
  /** One queue for every simulated node of one process; its keys are `<node>|<namespace>/<name>`. */
  simulatedHost: (hostName: string) => `simhost-${hostName}`,
} as const;

/** The key of a pod of a node in a queue shared by several nodes (QUEUES.simulatedHost). */
export function hostedPodKey(node: string, podKey: string): string {
  return `${node}|${podKey}`;
}

/** Consumer groups reading the change streams. */
export const GROUPS = {
  scheduler: 'scheduler',
  controller: (name: string) => `ctrl-${name}`,
} as const;
