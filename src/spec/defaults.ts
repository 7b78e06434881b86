/**
 * Every default of a Redis Sentinel deployment, in one place. The schema in `schema.ts` applies them; users may
 * import them (for example to open `DEFAULT_REDIS_PORT` in their own firewall rules).
 */

/** Port of each Redis server. */
export const DEFAULT_REDIS_PORT = 6379;
/** Port of each Sentinel. */
export const DEFAULT_SENTINEL_PORT = 26379;
/** Name under which the sentinels monitor the master (`sentinel monitor <name> ...`). */
export const DEFAULT_MASTER_NAME = "mymaster";
/** Number of nodes; each node runs one Redis server and one Sentinel. */
export const DEFAULT_NODE_COUNT = 3;
/** Largest supported node count. Sentinel elections with more voters only slow failover down. */
export const MAX_NODE_COUNT = 9;
/** Time a master must be unreachable before a sentinel marks it subjectively down. */
export const DEFAULT_DOWN_AFTER_MILLISECONDS = 5000;
/** Sentinel failover timeout; must be greater than down-after-milliseconds. */
export const DEFAULT_FAILOVER_TIMEOUT_MILLISECONDS = 10000;
/** Replicas that resynchronise with a new master at the same time. */
export const DEFAULT_PARALLEL_SYNCS = 1;
/** `replica-priority` of every node unless set per node. Lower wins; 0 means never promoted. */
export const DEFAULT_REPLICA_PRIORITY = 100;
/** RDB snapshot rules from the Spoke guide: 900 s / 1 change, 300 s / 10 changes, 60 s / 10000 changes. */
export const DEFAULT_SAVE_RULES: ReadonlyArray<{ readonly seconds: number; readonly changes: number }> = [
  { seconds: 900, changes: 1 },
  { seconds: 300, changes: 10 },
  { seconds: 60, changes: 10000 },
];
/** Memory limit of each Redis server, as a Redis size string. */
export const DEFAULT_MAXMEMORY = "2gb";
/**
 * Share of a node's memory (a VM's, or a Redis container's limit) that `maxmemory` may take; the rest covers the
 * system, client buffers and the fork's copy-on-write while Redis saves.
 */
export const MAXMEMORY_SHARE_OF_MEMORY = 0.75;
/** Eviction policy once `maxmemory` is reached. */
export const DEFAULT_MAXMEMORY_POLICY = "allkeys-lru";
/**
 * The master accepts writes only while at least this many replicas are connected and acknowledged the replication
 * stream within `DEFAULT_MIN_REPLICAS_MAX_LAG` seconds. A master cut off from its replicas (and so from the
 * sentinels' majority) then refuses writes `min-replicas-max-lag` + 1 to 2 s after the cut, before the sentinels
 * promote another node; the writes it acknowledged until then are lost when it rejoins as a replica, unless the
 * client waited for a replica (`WAIT 1` returning 1 or more).
 */
export const DEFAULT_MIN_REPLICAS_TO_WRITE = 1;
/**
 * Seconds since a replica's last acknowledgement (replicas send one every second) after which it no longer counts
 * for `min-replicas-to-write`. It must stay below down-after (the spec refuses `minReplicasMaxLag * 1000 >=
 * downAfterMilliseconds`): with 10 s and a 5 s down-after, a cut-off master went on acknowledging writes for about
 * 11 s, about 4 s after the majority had a writable master, and every one of them was discarded. 2 s tolerates one
 * late acknowledgement; measured on three nodes with the 5 s down-after, a cut-off master refused writes 3.8 s
 * after the cut, and the majority had a writable master at 7.1 s.
 */
export const DEFAULT_MIN_REPLICAS_MAX_LAG = 2;
/**
 * Seconds between the master's pings to its replicas (`repl-ping-replica-period`): what keeps an idle replication
 * link busy, so that a replica notices within `repl-timeout` that its master is gone.
 */
export const DEFAULT_PING_REPLICA_PERIOD = 2;
/**
 * `repl-timeout`, in seconds: how long a replica waits for data from its master (pings, the stream, the bulk
 * transfer of a full resync) and a master for a replica's acknowledgement before dropping the link. A link that
 * stalled in a partition is dropped after this long and made anew; with 60 s, links that stalled in a cut of
 * about 25 s waited out TCP's retransmission back-off after the network healed, and the master refused writes
 * (`min-replicas-to-write`) for another 26-29 s. With 10 s writes came back 3 s after healing.
 *
 * Why 10 s is enough for a full resync: while a master writes the RDB for a replica it sends it a newline every
 * second, and a replica that flushes its old data or loads the RDB sends its master a newline every second, so
 * neither the master's BGSAVE nor the replica's RDB load, however long, needs a longer timeout; what must fit is the
 * longest pause of one process's main thread, such as a fork (Redis's latency documentation: about 10 ms per
 * gigabyte on current EC2 instance types).
 * A pause longer than down-after (5 s) is failed over by the sentinels anyway. Must be greater than the ping period.
 */
export const DEFAULT_REPL_TIMEOUT = 10;
/** Name of the application user that ACL mode creates unless `acl.users` says otherwise. */
export const DEFAULT_APP_USER = "app";
/**
 * ACL rules of an application user unless set: every key and channel, every command but the administrative and
 * dangerous ones, and INFO, which clients such as ioredis send to check that a server is ready.
 */
export const DEFAULT_APP_USER_RULES = "~* &* +@all -@admin -@dangerous +info";
