import {
  CERTIFICATE_KEYS,
  passwordKey,
  PASSWORD_KEY,
  SYSTEM_USERS,
  type RedisSentinelConfig,
  type SecretStore,
} from "../spec";
import { NODE_FILES, VM_HOME } from "./layout";
import type { ClusterNodes } from "./nodes";

/**
 * Shell lines, for a script that defines `fail`, defining `FN KEY`: prints the secret KEY from `store`, or from the
 * file `$OVERRIDE/KEY` when the variable OVERRIDE is set (`redis-ha local`). Call it as `x="$(FN KEY)"`: under
 * `set -e` a missing secret stops the script with a message naming `field`.
 */
function storeReaderLines(fn: string, store: SecretStore, override: string, field: string): string[] {
  const read = (() => {
    switch (store.source) {
      case "env":
        return [
          "    local variable",
          `    variable="${store.prefix}$(printf '%s' "$1" | tr 'a-z.-' 'A-Z__')"`,
          '    value="${!variable:-}"',
          `    [ -n "$value" ] || fail "the environment variable $variable is empty or unset (${field})"`,
        ];
      case "directory":
        return [
          `    [ -r "${store.path}/$1" ] || fail "cannot read ${store.path}/$1 (${field})"`,
          `    value="$(cat -- "${store.path}/$1")"`,
        ];
      case "ssm-parameters":
        // Retried a few times: just after launch, the instance's role credentials may not be there yet.
        return [
          "    local attempt",
          "    for attempt in 1 2 3 4 5; do",
          `      if value="$(aws ssm get-parameter --region ${store.region} --name "${store.path}/$1" --with-decryption --query Parameter.Value --output text)"; then break; fi`,
          `      [ "$attempt" -lt 5 ] || fail "cannot read the SSM parameter ${store.path}/$1 (${field}): may the instance role call ssm:GetParameter on it?"`,
          '      sleep "$((attempt * 3))"',
          "    done",
        ];
    }
  })();
  return [
    `# ${fn} KEY: prints the secret KEY from ${field}, or from $${override}/KEY when ${override} is set (redis-ha local).`,
    `${fn}() {`,
    "  local value",
    `  if [ -n "\${${override}:-}" ]; then`,
    `    [ -r "$${override}/$1" ] || fail "cannot read $${override}/$1 (${override})"`,
    `    value="$(cat -- "$${override}/$1")"`,
    "  else",
    ...read,
    "  fi",
    `  [ -n "$value" ] || fail "the secret $1 is empty (${field})"`,
    "  printf '%s\\n' \"$value\"",
    "}",
  ];
}

/** Defines `secret KEY`, which prints a password from `auth.secrets` (REDIS_HA_SECRETS_DIR overrides it). */
export function secretReaderLines(config: RedisSentinelConfig): string[] {
  return storeReaderLines("secret", config.auth.secrets, "REDIS_HA_SECRETS_DIR", "auth.secrets");
}

/** Defines `certificate KEY`, which prints a PEM file from `tls.certificates` (REDIS_HA_TLS_DIR overrides it). */
export function certificateReaderLines(config: RedisSentinelConfig): string[] {
  if (!config.tls.enabled || !config.tls.certificates) return [];
  return storeReaderLines("certificate", config.tls.certificates, "REDIS_HA_TLS_DIR", "tls.certificates");
}


/**
 * Defines `secret` and sets the credentials the node's scripts use: `redis_password` (the `admin` user's in ACL mode)
 * and `sentinel_password` (the `sentinel` user's); in password mode both are the one password.
 */
export function credentialLines(config: RedisSentinelConfig): string[] {
  return [
    ...secretReaderLines(config),
    ...(config.acl.enabled
      ? [
          `redis_password="$(secret ${passwordKey(SYSTEM_USERS.admin)})"`,
          `sentinel_password="$(secret ${passwordKey(SYSTEM_USERS.sentinel)})"`,
        ]
      : [`redis_password="$(secret ${PASSWORD_KEY})"`, 'sentinel_password="$redis_password"']),
  ];
}

/**
 * Defines `redis_cli HOST ARGS...` and `sentinel_cli HOST ARGS...`: one command to a Redis server or a sentinel, as
 * `admin` and `sentinel` in ACL mode, over TLS when it is on, for a script that set `redis_password` and
 * `sentinel_password`. Passwords reach redis-cli through REDISCLI_AUTH, never its arguments.
 */
export function cliFunctionLines(config: RedisSentinelConfig): string[] {
  const acl = config.acl.enabled;
  const tlsFlags = config.tls.enabled
    ? ` --tls --cacert "$tls_dir/${CERTIFICATE_KEYS.ca}" --cert "$tls_dir/${CERTIFICATE_KEYS.certificate}" --key "$tls_dir/${CERTIFICATE_KEYS.key}"`
    : "";
  const cli = (user: string | undefined, passwordVar: string, port: number) =>
    `REDISCLI_AUTH="$${passwordVar}" timeout 3 redis-cli --no-auth-warning --raw${user ? ` --user ${user}` : ""}${tlsFlags} -h "$1" -p ${port} "\${@:2}"`;
  return [
    ...(config.tls.enabled ? [`tls_dir="\${REDIS_HA_HOME:-${VM_HOME}}/${NODE_FILES.tlsDir}"`] : []),
    "# redis_cli HOST ARGS... and sentinel_cli HOST ARGS...: one command to a Redis server or a sentinel.",
    `redis_cli() { ${cli(acl ? SYSTEM_USERS.admin : undefined, "redis_password", config.redis.port)}; }`,
    `sentinel_cli() { ${cli(acl ? SYSTEM_USERS.sentinel : undefined, "sentinel_password", config.sentinel.port)}; }`,
  ];
}

/**
 * Defines `nodes`, `sentinels` and `ask_sentinels`, which prints the master that the first answering sentinel
 * names, for a script that has `cliLines`. redis-cli exits 0 on error replies too, so only a reply that names a node
 * of this cluster on the Redis port counts.
 */
export function askSentinelsLines(config: RedisSentinelConfig, nodes: ClusterNodes): string[] {
  return [
    "# Where the master is now, by the sentinels. redis-cli exits 0 on error replies too, so only a reply that names",
    "# a node of this cluster on the Redis port counts.",
    `nodes=(${nodes.addresses.join(" ")})`,
    `sentinels=(${(nodes.sentinelAddresses ?? nodes.addresses).join(" ")})`,
    "ask_sentinels() {",
    "  local sentinel reply named port known",
    '  for sentinel in "${sentinels[@]}"; do',
    `    reply="$(sentinel_cli "$sentinel" SENTINEL get-master-addr-by-name ${config.topology.masterName} 2>/dev/null || true)"`,
    `    named="$(printf '%s\\n' "$reply" | sed -n 1p)"`,
    `    port="$(printf '%s\\n' "$reply" | sed -n 2p)"`,
    '    for known in "${nodes[@]}"; do',
    `      if [ "$named" = "$known" ] && [ "$port" = ${config.redis.port} ]; then echo "$named"; return 0; fi`,
    "    done",
    "  done",
    "}",
  ];
}
