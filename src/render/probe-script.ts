import type { RedisSentinelConfig } from "../spec";
import { checkNodes, sentinelAddress, type ClusterNodes } from "./nodes";
import { cliFunctionLines, credentialLines } from "./shell";

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
    ...credentialLines(config),
    ...cliFunctionLines(config),
    "",
    "# ask redis|sentinel HOST COMMAND...: one command to this node's Redis or Sentinel; nothing when it does not answer.",
    "ask() {",
    `  "$1_cli" "\${@:2}" 2>/dev/null | tr -d '\\r' || true`,
    "}",
    'case "${1:-}" in',
    `  live) [ "$(ask redis ${self} PING)" = PONG ] || fail "redis at ${self}:${config.redis.port} does not answer PING" ;;`,
    "  ready)",
    `    [ "$(ask redis ${self} PING)" = PONG ] || fail "redis at ${self}:${config.redis.port} does not answer PING"`,
    `    info="$(ask redis ${self} INFO replication)"`,
    '    if printf \'%s\\n\' "$info" | grep -qx "role:slave"; then',
    '      printf \'%s\\n\' "$info" | grep -qx "master_link_status:up" || fail "the link to the master is down"',
    "    fi",
    "    ;;",
    `  sentinel) [ "$(ask sentinel ${sentinel} PING)" = PONG ] || fail "sentinel at ${sentinel}:${config.sentinel.port} does not answer PING" ;;`,
    '  *) fail "usage: redis-ha-probe live|ready|sentinel" ;;',
    "esac",
    "",
  ].join("\n");
}
