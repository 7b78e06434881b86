import { SYSTEM_USERS, type RedisSentinelConfig } from "../spec";

/**
 * ACL rules of the cluster's own users on Redis. The sentinel user has the commands the Redis ACL documentation
 * lists for Sentinel, and the channel sentinels announce themselves on: Redis 7 denies every channel by default, and
 * without it sentinels never find each other.
 */
export const REDIS_SYSTEM_USER_RULES = {
  [SYSTEM_USERS.admin]: "~* &* +@all",
  [SYSTEM_USERS.replication]: "resetchannels -@all +psync +replconf +ping",
  [SYSTEM_USERS.sentinel]:
    "resetchannels &__sentinel__:hello -@all +multi +slaveof +ping +exec +subscribe +config|rewrite +role +publish +info +client|setname +client|kill +script|kill",
} as const;

/** ACL rules of the sentinel user on a sentinel: other sentinels and operators log in as it. */
export const SENTINEL_PEER_RULES = "allchannels +@all";

/**
 * ACL rules of an application user on a sentinel: what a sentinel-aware client needs to find the master and follow
 * failovers, and nothing that changes the sentinel (no SENTINEL FAILOVER, SET, RESET or REMOVE).
 */
export const SENTINEL_CLIENT_RULES =
  "resetchannels &* -@all +ping +auth +hello +info +role +client|setname +client|getname +client|id" +
  " +subscribe +psubscribe +unsubscribe +punsubscribe" +
  " +sentinel|get-master-addr-by-name +sentinel|master +sentinel|masters +sentinel|replicas +sentinel|slaves" +
  " +sentinel|sentinels +sentinel|ckquorum +sentinel|myid";

/**
 * Shell lines, for the boot script, that print the two ACL files of ACL mode: `redis_acl` prints Redis's, and
 * `sentinel_acl` the sentinels'. Passwords are written as SHA-256 hashes (`#...`), from the variables the boot script
 * set: `admin_password`, `replication_password`, `sentinel_password` and `user_password_<i>` per application user.
 */
export function aclFileLines(config: RedisSentinelConfig): string[] {
  const users = config.acl.users;
  return [
    "# The ACL files. Passwords are stored as SHA-256 hashes; an ACL file line cannot quote a password.",
    "sha() { printf '%s' \"$1\" | sha256sum | cut -d ' ' -f 1; }",
    "redis_acl() {",
    "  echo 'user default off'",
    `  echo "user ${SYSTEM_USERS.admin} on #$(sha "$admin_password") ${REDIS_SYSTEM_USER_RULES.admin}"`,
    `  echo "user ${SYSTEM_USERS.replication} on #$(sha "$replication_password") ${REDIS_SYSTEM_USER_RULES.replication}"`,
    `  echo "user ${SYSTEM_USERS.sentinel} on #$(sha "$sentinel_password") ${REDIS_SYSTEM_USER_RULES.sentinel}"`,
    ...users.map((u, i) => `  echo "user ${u.name} on #$(sha "$user_password_${i}") ${u.rules}"`),
    "}",
    "sentinel_acl() {",
    "  echo 'user default off'",
    `  echo "user ${SYSTEM_USERS.sentinel} on #$(sha "$sentinel_password") ${SENTINEL_PEER_RULES}"`,
    ...users.map((u, i) => `  echo "user ${u.name} on #$(sha "$user_password_${i}") ${SENTINEL_CLIENT_RULES}"`),
    "}",
  ];
}
