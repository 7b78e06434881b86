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
  /** Written by the boot script at every boot: credentials (and TLS file paths) that redis.conf includes. Mode 0600. */
  redisAuth: "redis-auth.conf",
  /** Written by the boot script at every boot: credentials (and TLS file paths) that sentinel.conf includes. Mode 0600. */
  sentinelAuth: "sentinel-auth.conf",
  /** ACL mode: Redis's users, written by the boot script at every boot (password hashes). Mode 0600. */
  redisAcl: "users.acl",
  /** ACL mode: the sentinel's users, written by the boot script at every boot (password hashes). Mode 0600. */
  sentinelAcl: "sentinel-users.acl",
  /** TLS: the node's certificate, key and CA, copied there by the boot script at every boot. Mode 0700. */
  tlsDir: "tls",
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
