import type { RedisSentinelConfig } from "../spec";
import { checkNodes, type ClusterNodes } from "./nodes";
import { askSentinelsLines, cliFunctionLines, credentialLines } from "./shell";

/** Longest the preStop script lets the replicas catch up before it asks for the failover. */
export const PRESTOP_CATCH_UP_SECONDS = 5;

/**
 * Seconds a node needs to stop gracefully when it is the master: replicas catch up, then the sentinels fail over
 * (at most failover-timeout), plus a margin. A pod's termination grace period must be at least this.
 */
export function preStopSeconds(config: RedisSentinelConfig): number {
  // Catching up, the failover, the sentinels agreeing, and a margin.
  return 2 * PRESTOP_CATCH_UP_SECONDS + Math.ceil(config.sentinel.failoverTimeout / 1000) + 5;
}

/**
 * The preStop script of node `index` (a Kubernetes preStop hook, or a planned stop on a VM). On the master it
 * pauses writes (clients wait, none is refused), waits until a replica has everything the master has, asks a
 * sentinel to fail over, waits until the sentinels name the new master, makes itself a replica of it, closes the
 * clients' connections (they reconnect through the sentinels to the new master) and lifts the pause. On a replica
 * it does nothing.
 */
export function renderPreStopScript(config: RedisSentinelConfig, nodes: ClusterNodes, index: number): string {
  checkNodes(config, nodes);
  const self = nodes.addresses[index];
  const name = config.topology.masterName;
  const pauseMs = preStopSeconds(config) * 1000;
  return [
    "#!/usr/bin/env bash",
    `# preStop of node ${index} (${self}) of Redis Sentinel cluster "${name}", rendered by cdktf-redis-sentinel.`,
    "# On the master: pause writes, let a replica catch up, have the sentinels fail over, and wait for the new",
    "# master, so that the node stops without losing a write. On a replica: nothing to do.",
    "set -euo pipefail",
    "",
    'fail() { echo "redis-ha-prestop: $*" >&2; exit 1; }',
    "",
    ...credentialLines(config),
    ...cliFunctionLines(config),
    "",
    ...askSentinelsLines(config, nodes),
    "",
    `redis() { redis_cli ${self} "$@"; }`,
    "field() { redis INFO replication | tr -d '\\r' | sed -n \"s/^$1://p\"; }",
    "",
    'if [ "$(field role)" != master ]; then',
    '  echo "redis-ha-prestop: not the master: nothing to do"',
    "  exit 0",
    "fi",
    "",
    `redis CLIENT PAUSE ${pauseMs} WRITE > /dev/null`,
    'resume() { redis CLIENT UNPAUSE > /dev/null || true; }',
    "trap resume EXIT",
    "",
    "# A replica catches up with everything the master has: the failover then loses no write.",
    'target="$(field master_repl_offset)"',
    `deadline=$((SECONDS + ${PRESTOP_CATCH_UP_SECONDS}))`,
    "best() { redis INFO replication | tr -d '\\r' | grep -Eo 'offset=[0-9]+' | cut -d= -f2 | sort -n | tail -n 1; }",
    "# At or past the target: the master's own pings to its replicas go on adding to the stream during the pause.",
    'until [ "$(best)" -ge "$target" ] 2>/dev/null; do',
    '  [ "$SECONDS" -lt "$deadline" ] || fail "no replica caught up with offset $target"',
    "  sleep 0.1",
    "done",
    "",
    'asked=""',
    'for sentinel in "${sentinels[@]}"; do',
    `  reply="$(sentinel_cli "$sentinel" SENTINEL FAILOVER ${name} 2>/dev/null || true)"`,
    '  if [ "$reply" = OK ]; then asked="$sentinel"; break; fi',
    "done",
    '[ -n "$asked" ] || fail "no sentinel accepted SENTINEL FAILOVER"',
    "",
    `deadline=$((SECONDS + ${Math.ceil(config.sentinel.failoverTimeout / 1000)}))`,
    'master="$(ask_sentinels)"',
    `until [ -n "$master" ] && [ "$master" != ${self} ]; do`,
    '  [ "$SECONDS" -lt "$deadline" ] || fail "the sentinels named no new master in time"',
    "  sleep 0.1",
    '  master="$(ask_sentinels)"',
    "done",
    "# Follow the new master now, as Sentinel would on its next round (its link here is held up by the pause), and",
    "# keep that across a restart. Then the pause lifts (trap), and writes here get READONLY: clients move on.",
    `redis REPLICAOF "$master" ${config.redis.port} > /dev/null`,
    "redis CONFIG REWRITE > /dev/null",
    "# Lift the pause once every sentinel that answers names the new master, so that no client is sent back here.",
    "agreed() {",
    "  local sentinel named",
    '  for sentinel in "${sentinels[@]}"; do',
    `    named="$( (sentinel_cli "$sentinel" SENTINEL get-master-addr-by-name ${name} 2>/dev/null || true) | sed -n 1p)"`,
    '    if [ -n "$named" ] && [ "$named" != "$master" ]; then return 1; fi',
    "  done",
    "}",
    `deadline=$((SECONDS + ${PRESTOP_CATCH_UP_SECONDS}))`,
    'until agreed || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.1; done',
    "# Close the clients' connections, as Sentinel does when it reconfigures a node: a client left connected here would",
    "# get READONLY until it reconnected; reconnecting, it asks the sentinels and finds the new master. A write still",
    "# held by the pause was never done, and a client sends it again there.",
    "redis CLIENT KILL TYPE normal > /dev/null || true",
    'echo "redis-ha-prestop: $master is master now; this node is a replica"',
    "",
  ].join("\n");
}
