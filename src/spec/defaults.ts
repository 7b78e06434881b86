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
/** Eviction policy once `maxmemory` is reached. */
export const DEFAULT_MAXMEMORY_POLICY = "allkeys-lru";
/**
 * The master accepts writes only while at least this many replicas are connected with at most
 * `DEFAULT_MIN_REPLICAS_MAX_LAG` seconds of lag: a master cut off from its replicas stops taking writes that a
 * failover would throw away.
 */
export const DEFAULT_MIN_REPLICAS_TO_WRITE = 1;
/** See `DEFAULT_MIN_REPLICAS_TO_WRITE`. */
export const DEFAULT_MIN_REPLICAS_MAX_LAG = 10;
/** Name of the application user that ACL mode creates unless `acl.users` says otherwise. */
export const DEFAULT_APP_USER = "app";
/**
 * ACL rules of an application user unless set: every key and channel, every command but the administrative and
 * dangerous ones, and INFO, which clients such as ioredis send to check that a server is ready.
 */
export const DEFAULT_APP_USER_RULES = "~* &* +@all -@admin -@dangerous +info";
