import type { RedisSentinelConfig } from "../spec";
import { NODE_FILES } from "./layout";
import { bindLine, checkNodes, initialMasterAddress, sentinelAddress, usesHostnames, type ClusterNodes } from "./nodes";
import { processDirectives } from "./process-directives";
import { portLines } from "./redis-conf";

/**
 * sentinel.conf of node `index`. Holds no secret and no `sentinel myid` (each sentinel makes its own on first
 * start; two sentinels with one id ignore each other). `requirepass` and `sentinel auth-pass` come from the file
 * the boot script writes, included after `sentinel monitor`, which must come first.
 */
export function renderSentinelConf(config: RedisSentinelConfig, nodes: ClusterNodes, index: number): string {
  checkNodes(config, nodes);
  const { topology, sentinel, redis } = config;
  const address = sentinelAddress(nodes, index);
  const name = topology.masterName;

  return [
    `# sentinel.conf of node ${index} (${address}) in Redis Sentinel cluster "${name}",`,
    "# rendered by cdktf-redis-sentinel. Sentinel rewrites this file whenever its view of the cluster changes:",
    "# edit the spec, not this file.",
    "",
    "# Network. The sentinel announces its own address, whatever source address its connections come from.",
    bindLine(nodes, address),
    ...portLines(config, sentinel.port),
    "protected-mode yes",
    ...(usesHostnames(nodes)
      ? ["# Nodes are known by host name: resolve them, and announce this one by name (before `sentinel monitor`).",
         "sentinel resolve-hostnames yes",
         "sentinel announce-hostnames yes"]
      : []),
    `sentinel announce-ip ${address}`,
    `sentinel announce-port ${sentinel.port}`,
    "",
    ...processDirectives(config),
    "",
    "# Monitoring",
    `sentinel monitor ${name} ${initialMasterAddress(config, nodes)} ${redis.port} ${sentinel.quorum}`,
    `sentinel down-after-milliseconds ${name} ${sentinel.downAfterMilliseconds}`,
    `sentinel failover-timeout ${name} ${sentinel.failoverTimeout}`,
    `sentinel parallel-syncs ${name} ${sentinel.parallelSyncs}`,
    ...(sentinel.notificationScript ? [`sentinel notification-script ${name} ${sentinel.notificationScript}`] : []),
    ...(sentinel.clientReconfigScript ? [`sentinel client-reconfig-script ${name} ${sentinel.clientReconfigScript}`] : []),
    "# Scripts cannot be changed at run time with SENTINEL SET.",
    "sentinel deny-scripts-reconfig yes",
    "",
    ...(config.acl.enabled
      ? ["# Authentication: the ACL file (default user off), the user this sentinel logs in to Redis as (auth-user,",
         "# auth-pass) and to the other sentinels (sentinel-user, sentinel-pass). The boot script writes this file."]
      : ["# Authentication: requirepass (clients and the other sentinels use it) and sentinel auth-pass for Redis.",
         "# The boot script writes this file."]),
    `include ${NODE_FILES.sentinelAuth}`,
    "",
  ].join("\n");
}
