/**
 * A node's files. Both processes run with the node's home directory as their working directory, and the rendered
 * configs name their files relative to it, so the same text runs under `/var/lib/redis-ha` on a VM and under
 * `DIR/node-N` with `redis-ha local`: only addresses and secrets differ between the two.
 */
export const NODE_FILES = {
  /** Live redis.conf in the home directory; Redis rewrites it on failover (CONFIG REWRITE). */
  redisConf: "redis.conf",
  /** Live sentinel.conf in the home directory; Sentinel rewrites it whenever its view changes. */
  sentinelConf: "sentinel.conf",
  /** Written by the boot script at every boot: requirepass and masterauth. Mode 0600. */
  redisAuth: "redis-auth.conf",
  /** Written by the boot script at every boot: requirepass and sentinel auth-pass. Mode 0600. */
  sentinelAuth: "sentinel-auth.conf",
  /** Redis data (RDB and AOF); on a VM, the mount point of the data volume. */
  dataDir: "data",
} as const;

/** Home directory of a node on a VM. */
export const VM_HOME = "/var/lib/redis-ha";
/** Where the platform (cloud-init, a ConfigMap) places the rendered, read-only configs on a VM. */
export const VM_STAGE = "/etc/redis-ha";
/** User that owns a node's files and runs its processes on a VM (created by Debian's redis-server package). */
export const VM_USER = "redis";
/** systemd units of a node on a VM. */
export const UNIT_NAMES = {
  redis: "redis-ha-server.service",
  sentinel: "redis-ha-sentinel.service",
} as const;
