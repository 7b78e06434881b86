import type { RedisSentinelConfig } from "../spec";
import { checkNodes, sentinelAddress, type ClusterNodes } from "./nodes";
import { readPasswordLines } from "./shell";

/**
 * The probe of node `index`, for Kubernetes liveness and readiness probes: `redis-ha-probe live` (Redis answers
 * PING), `ready` (and a replica's link to its master is up), `sentinel` (Sentinel answers PING). The password
 * reaches redis-cli through REDISCLI_AUTH and never appears in an argument or in the output.
 */
export function renderProbeScript(config: RedisSentinelConfig, nodes: ClusterNodes, index: number): string {
  checkNodes(config, nodes);
  const self = nodes.addresses[index];
  const sentinel = sentinelAddress(nodes, index);
  return [
    "#!/usr/bin/env bash",
    `# Probe of node ${index} (${self}) of Redis Sentinel cluster "${config.topology.masterName}", rendered by cdktf-redis-sentinel.`,
    "# Usage: redis-ha-probe live|ready|sentinel. Exits 0 when healthy.",
    "set -euo pipefail",
    "",
    'fail() { echo "redis-ha-probe: $*" >&2; exit 1; }',
    "",
    ...readPasswordLines(config),
    "",
    "# ask HOST PORT COMMAND...: one command to this node's Redis or Sentinel.",
    "ask() {",
    `  REDISCLI_AUTH="$password" timeout 2 redis-cli --no-auth-warning --raw -h "$1" -p "$2" "\${@:3}" 2>/dev/null | tr -d '\\r' || true`,
    "}",
    'case "${1:-}" in',
    `  live) [ "$(ask ${self} ${config.redis.port} PING)" = PONG ] || fail "redis at ${self}:${config.redis.port} does not answer PING" ;;`,
    "  ready)",
    `    [ "$(ask ${self} ${config.redis.port} PING)" = PONG ] || fail "redis at ${self}:${config.redis.port} does not answer PING"`,
    `    info="$(ask ${self} ${config.redis.port} INFO replication)"`,
    '    if printf \'%s\\n\' "$info" | grep -qx "role:slave"; then',
    '      printf \'%s\\n\' "$info" | grep -qx "master_link_status:up" || fail "the link to the master is down"',
    "    fi",
    "    ;;",
    `  sentinel) [ "$(ask ${sentinel} ${config.sentinel.port} PING)" = PONG ] || fail "sentinel at ${sentinel}:${config.sentinel.port} does not answer PING" ;;`,
    '  *) fail "usage: redis-ha-probe live|ready|sentinel" ;;',
    "esac",
    "",
  ].join("\n");
}
