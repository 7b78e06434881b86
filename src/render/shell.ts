import type { RedisSentinelConfig, SecretReference } from "../spec";
import type { ClusterNodes } from "./nodes";

/** Shell lines, for a script that defines `fail`, that set `password` where `auth.password` points. */
function fromReference(ref: SecretReference): string[] {
  switch (ref.source) {
    case "env":
      return [
        `  password="\${${ref.name}:-}"`,
        `  [ -n "$password" ] || fail "the environment variable ${ref.name} is empty or unset (auth.password)"`,
      ];
    case "file":
      return [
        `  [ -r ${ref.path} ] || fail "cannot read ${ref.path} (auth.password)"`,
        `  password="$(cat -- ${ref.path})"`,
        `  [ -n "$password" ] || fail "${ref.path} is empty (auth.password)"`,
      ];
    case "ssm-parameter":
      return [
        `  password="$(aws ssm get-parameter --region ${ref.region} --name ${ref.name} --with-decryption --query Parameter.Value --output text)" ||`,
        `    fail "cannot read the SSM parameter ${ref.name} (auth.password): may the instance role call ssm:GetParameter on it?"`,
        `  [ -n "$password" ] || fail "the SSM parameter ${ref.name} is empty (auth.password)"`,
      ];
  }
}

/** Sets `password`: from REDIS_HA_PASSWORD_FILE when set (`redis-ha local`), else where `auth.password` points. */
export function readPasswordLines(config: RedisSentinelConfig): string[] {
  return [
    "# The password.",
    'if [ -n "${REDIS_HA_PASSWORD_FILE:-}" ]; then',
    '  [ -r "$REDIS_HA_PASSWORD_FILE" ] || fail "cannot read $REDIS_HA_PASSWORD_FILE (REDIS_HA_PASSWORD_FILE)"',
    '  password="$(cat -- "$REDIS_HA_PASSWORD_FILE")"',
    "else",
    ...fromReference(config.auth.password),
    "fi",
  ];
}

/**
 * Defines `nodes`, `sentinels`, `sentinel_cli` and `ask_sentinels`, which prints the master that the first answering sentinel names. redis-cli
 * exits 0 on error replies too, so only a reply that names a node of this cluster on the Redis port counts. The
 * password reaches redis-cli through REDISCLI_AUTH, never its arguments.
 */
export function askSentinelsLines(config: RedisSentinelConfig, nodes: ClusterNodes): string[] {
  return [
    "# Where the master is now, by the sentinels. redis-cli exits 0 on error replies too, so only a reply that names",
    "# a node of this cluster on the Redis port counts.",
    `nodes=(${nodes.addresses.join(" ")})`,
    `sentinels=(${(nodes.sentinelAddresses ?? nodes.addresses).join(" ")})`,
    "# sentinel_cli HOST ARGS...: one command to a sentinel; prints nothing when it does not answer.",
    `sentinel_cli() { REDISCLI_AUTH="$password" timeout 3 redis-cli --no-auth-warning --raw -h "$1" -p ${config.sentinel.port} "\${@:2}" 2>/dev/null || true; }`,
    "ask_sentinels() {",
    "  local sentinel reply named port known",
    '  for sentinel in "${sentinels[@]}"; do',
    `    reply="$(sentinel_cli "$sentinel" SENTINEL get-master-addr-by-name ${config.topology.masterName})"`,
    `    named="$(printf '%s\\n' "$reply" | sed -n 1p)"`,
    `    port="$(printf '%s\\n' "$reply" | sed -n 2p)"`,
    '    for known in "${nodes[@]}"; do',
    `      if [ "$named" = "$known" ] && [ "$port" = ${config.redis.port} ]; then echo "$named"; return 0; fi`,
    "    done",
    "  done",
    "}",
  ];
}
