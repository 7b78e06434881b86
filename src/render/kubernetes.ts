import type { RedisSentinelConfig } from "../spec";
import { NODE_FILES } from "./layout";
import { renderCluster } from "./node";
import type { ClusterNodes } from "./nodes";
import { renderPreStopScript } from "./prestop-script";
import { renderProbeScript } from "./probe-script";

/** Where a pod mounts its ConfigMap, its password and TLS Secrets, its data volume, and a scratch directory for the boot step. */
export const POD_PATHS = {
  config: "/etc/redis-ha",
  secret: "/etc/redis-ha-secret",
  tls: "/etc/redis-ha-tls",
  data: "/data",
  stage: "/stage",
} as const;
/** The dispatcher every container runs: `pod.sh boot [both|redis|sentinel] | probe KIND | prestop`. */
export const POD_SCRIPT = "pod.sh";

/**
 * The ConfigMap data of a StatefulSet whose pod `i` is node `i`: every node's rendered configs and scripts under
 * names ending in its ordinal, and `pod.sh`, which runs the right one in each pod. All pods share one template, so
 * the ordinal at the end of the pod's host name picks the files.
 */
export function renderPodFiles(config: RedisSentinelConfig, nodes: ClusterNodes): Record<string, string> {
  const files: Record<string, string> = {};
  for (const node of renderCluster(config, nodes)) {
    const i = node.index;
    files[`redis-${i}.conf`] = node.redisConf;
    files[`sentinel-${i}.conf`] = node.sentinelConf;
    files[`boot-${i}.sh`] = node.bootScript;
    files[`prestop-${i}.sh`] = renderPreStopScript(config, nodes, i);
    files[`probe-${i}.sh`] = renderProbeScript(config, nodes, i);
  }
  const { config: dir, data, stage } = POD_PATHS;
  files[POD_SCRIPT] = [
    "#!/usr/bin/env bash",
    `# Runs this pod's script of Redis Sentinel cluster "${config.topology.masterName}", rendered by cdktf-redis-sentinel.`,
    "# Usage: pod.sh boot [both|redis|sentinel] | probe KIND | prestop. The pod's ordinal (the end of",
    "# its host name) picks the node's files; boot's argument says what the pod runs (both: Redis with a sidecar).",
    "set -euo pipefail",
    'ordinal="${HOSTNAME##*-}"',
    `[ -r "${dir}/boot-$ordinal.sh" ] || { echo "pod.sh: no node $ordinal in this cluster" >&2; exit 1; }`,
    'case "${1:-}" in',
    "  boot)",
    "    # install replaces the copies an earlier run of this init container left (the ConfigMap's mode is read-only).",
    `    install -m 0600 "${dir}/redis-$ordinal.conf" "${stage}/${NODE_FILES.redisConf}"`,
    `    install -m 0600 "${dir}/sentinel-$ordinal.conf" "${stage}/${NODE_FILES.sentinelConf}"`,
    `    REDIS_HA_HOME=${data} REDIS_HA_STAGE=${stage} REDIS_HA_START=none REDIS_HA_PROCESSES="\${2:-both}" exec bash "${dir}/boot-$ordinal.sh" ;;`,
    `  probe) REDIS_HA_HOME=${data} exec bash "${dir}/probe-$ordinal.sh" "\${2:-}" ;;`,
    `  prestop) REDIS_HA_HOME=${data} exec bash "${dir}/prestop-$ordinal.sh" ;;`,
    '  *) echo "usage: pod.sh boot [both|redis|sentinel] | probe live|ready|started|sentinel|sentinel-started | prestop" >&2; exit 2 ;;',
    "esac",
    "",
  ].join("\n");
  return files;
}
