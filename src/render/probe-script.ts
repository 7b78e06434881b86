import type { RedisSentinelConfig } from "../spec";
import { checkNodes, sentinelAddress, type ClusterNodes } from "./nodes";
import { askSentinelsLines, cliFunctionLines, credentialLines } from "./shell";

/**
 * The probe of node `index`, for Kubernetes probes: `redis-ha-probe live` (Redis answers PING, or LOADING while it
 * loads its dataset), `ready` (and a replica's link to its master is up), `started` (every sentinel that answers
 * has heard from this Redis process: it lists this node with this process's run_id, neither down nor
 * disconnected), `sentinel` (Sentinel answers PING), `sentinel-started` (every other sentinel that answers has
 * heard this sentinel's hello: it lists it with its id, neither down nor disconnected). A sentinel resolves a host
 * name again only when it reconnects, so a pod that returns with a new address counts as started only once the
 * sentinels reach it there. The password reaches redis-cli through REDISCLI_AUTH and never appears in an argument
 * or in the output.
 */
export function renderProbeScript(config: RedisSentinelConfig, nodes: ClusterNodes, index: number): string {
  checkNodes(config, nodes);
  const self = nodes.addresses[index];
  const sentinel = sentinelAddress(nodes, index);
  const name = config.topology.masterName;
  const { port: redisPort } = config.redis;
  const { port: sentinelPort } = config.sentinel;
  return [
    "#!/usr/bin/env bash",
    `# Probe of node ${index} (${self}) of Redis Sentinel cluster "${name}", rendered by cdktf-redis-sentinel.`,
    "# Usage: redis-ha-probe live|ready|started|sentinel|sentinel-started. Exits 0 when healthy.",
    "set -euo pipefail",
    "",
    'fail() { echo "redis-ha-probe: $*" >&2; exit 1; }',
    "",
    ...credentialLines(config),
    ...cliFunctionLines(config),
    ...askSentinelsLines(config, nodes),
    "",
    "# ask redis|sentinel HOST COMMAND...: one command to this node's Redis or Sentinel; nothing when it does not answer.",
    "ask() {",
    `  "$1_cli" "\${@:2}" 2>/dev/null | tr -d '\\r' || true`,
    "}",
    "# lists ADDRESS PORT ID: true when the field/value lines on standard input (SENTINEL MASTER, REPLICAS or",
    "# SENTINELS) hold an instance at ADDRESS:PORT with run id ID that is neither down nor disconnected. Plain bash:",
    "# the image's awk is an alternatives link, not a program to count on.",
    "lists() {",
    '  local key value ip="" port="" runid="" flags="" found=1',
    "  while IFS= read -r key && IFS= read -r value; do",
    '    case "$key" in',
    '      name) ip="" port="" runid="" flags="" ;;',
    '      ip) ip="$value" ;;',
    '      port) port="$value" ;;',
    '      runid) runid="$value" ;;',
    '      flags) flags="$value" ;;',
    "    esac",
    '    if [ -n "$flags" ] && [ "$ip" = "$1" ] && [ "$port" = "$2" ] && [ "$runid" = "$3" ] && [[ ! "$flags" =~ s_down|o_down|disconnected ]]; then',
    "      found=0",
    "    fi",
    "  done",
    '  return "$found"',
    "}",
    'case "${1:-}" in',
    "  live)",
    "    # A Redis loading its dataset answers LOADING: it is alive, and restarting it would only start the load again.",
    `    case "$(ask redis ${self} PING)" in PONG | LOADING*) ;; *) fail "redis at ${self}:${redisPort} does not answer PING" ;; esac`,
    "    ;;",
    "  ready)",
    `    [ "$(ask redis ${self} PING)" = PONG ] || fail "redis at ${self}:${redisPort} does not answer PING"`,
    `    info="$(ask redis ${self} INFO replication)"`,
    '    if printf \'%s\\n\' "$info" | grep -qx "role:slave"; then',
    '      printf \'%s\\n\' "$info" | grep -qx "master_link_status:up" || fail "the link to the master is down"',
    "    fi",
    "    ;;",
    "  started)",
    `    run_id="$(ask redis ${self} INFO server | sed -n 's/^run_id://p')"`,
    `    [ -n "$run_id" ] || fail "redis at ${self}:${redisPort} does not answer INFO"`,
    '    for sentinel in "${sentinels[@]}"; do',
    `      named="$(ask sentinel "$sentinel" SENTINEL get-master-addr-by-name ${name} | sed -n 1p)"`,
    "      # A sentinel that does not answer (not started, or gone) has nothing to hear.",
    '      if [ -z "$named" ]; then continue; fi',
    `      if [ "$named" = ${self} ]; then listing=(SENTINEL MASTER ${name}); else listing=(SENTINEL REPLICAS ${name}); fi`,
    `      ask sentinel "$sentinel" "\${listing[@]}" | lists ${self} ${redisPort} "$run_id" ||`,
    '        fail "the sentinel at $sentinel has not yet heard from this Redis (run_id $run_id)"',
    "    done",
    "    ;;",
    `  sentinel) [ "$(ask sentinel ${sentinel} PING)" = PONG ] || fail "sentinel at ${sentinel}:${sentinelPort} does not answer PING" ;;`,
    "  sentinel-started)",
    `    id="$(ask sentinel ${sentinel} SENTINEL MYID)"`,
    `    [ -n "$id" ] || fail "sentinel at ${sentinel}:${sentinelPort} does not answer SENTINEL MYID"`,
    '    for other in "${sentinels[@]}"; do',
    `      if [ "$other" = ${sentinel} ] || [ "$(ask sentinel "$other" PING)" != PONG ]; then continue; fi`,
    `      ask sentinel "$other" SENTINEL SENTINELS ${name} | lists ${sentinel} ${sentinelPort} "$id" ||`,
    '        fail "the sentinel at $other has not yet heard this sentinel (id $id)"',
    "    done",
    "    ;;",
    '  *) fail "usage: redis-ha-probe live|ready|started|sentinel|sentinel-started" ;;',
    "esac",
    "",
  ].join("\n");
}
