import type { RedisSentinelConfig } from "../spec";
import { NODE_FILES } from "./layout";
import { bindLine, checkNodes, initialMasterAddress, type ClusterNodes } from "./nodes";
import { processDirectives } from "./process-directives";

const yesNo = (value: boolean) => (value ? "yes" : "no");

/**
 * The listening ports of a Redis server or a sentinel: `port` in plain text, or with TLS `port` as its TLS port and
 * plain text closed (or on `plaintextPort`). Replication and sentinel links then use TLS too.
 */
export function portLines(config: RedisSentinelConfig, port: number, plaintextPort?: number): string[] {
  if (!config.tls.enabled) return [`port ${port}`];
  return [
    "# TLS on every link; the certificate files come from the include below.",
    `port ${plaintextPort ?? 0}`,
    `tls-port ${port}`,
    "tls-replication yes",
    `tls-auth-clients ${config.tls.authClients}`,
  ];
}

/**
 * redis.conf of node `index`. Holds no secret: `requirepass` and `masterauth` come from the file the boot
 * script writes, through `include`. Paths are relative to the node's home directory (see `NODE_FILES`).
 */
export function renderRedisConf(config: RedisSentinelConfig, nodes: ClusterNodes, index: number): string {
  checkNodes(config, nodes);
  const { topology, redis } = config;
  const address = nodes.addresses[index];
  const isInitialMaster = index === topology.initialMaster;
  const { persistence: p, replication: r, memory, clients } = redis;

  return [
    `# redis.conf of node ${index} (${address}) in Redis Sentinel cluster "${topology.masterName}",`,
    "# rendered by cdktf-redis-sentinel. Redis rewrites this file on failover (CONFIG REWRITE): edit the spec,",
    "# not this file.",
    "",
    "# Network",
    bindLine(nodes, address, redis.extraBindAddresses),
    `protected-mode ${yesNo(redis.protectedMode)}`,
    ...portLines(config, redis.port, config.tls.plaintextPort),
    `timeout ${clients.timeout}`,
    `tcp-keepalive ${clients.tcpKeepalive}`,
    `maxclients ${clients.maxclients}`,
    "",
    config.acl.enabled
      ? "# Authentication: the ACL file (default user off), and masteruser/masterauth on every node, the master included,"
      : "# Authentication: requirepass, and masterauth on every node, the master included, so that a demoted master",
    config.acl.enabled
      ? "# so that a demoted master can sync from the new one. The boot script writes this file, which is read before `dir`."
      : "# can sync from the new one. The boot script writes this file; it is read before `dir` changes directory.",
    `include ${NODE_FILES.redisAuth}`,
    "",
    "# Persistence",
    `dir ${NODE_FILES.dataDir}`,
    `dbfilename ${p.dbFilename}`,
    ...(p.save.length > 0 ? p.save.map((rule) => `save ${rule.seconds} ${rule.changes}`) : ['save ""']),
    `stop-writes-on-bgsave-error ${yesNo(p.stopWritesOnBgsaveError)}`,
    `rdbcompression ${yesNo(p.rdbCompression)}`,
    `appendonly ${yesNo(p.appendOnly)}`,
    `appendfsync ${p.appendFsync}`,
    "",
    "# Replication. The node announces its own address, whatever source address its connections come from.",
    `replica-announce-ip ${address}`,
    `replica-announce-port ${redis.port}`,
    "replica-read-only yes",
    `replica-priority ${topology.replicaPriority[index]}`,
    `repl-diskless-sync ${yesNo(r.disklessSync)}`,
    `repl-diskless-sync-delay ${r.disklessSyncDelay}`,
    `repl-ping-replica-period ${r.pingReplicaPeriod}`,
    `repl-timeout ${r.timeout}`,
    "# A master cut off from its replicas refuses writes min-replicas-max-lag + 1 to 2 s after the cut, before the",
    "# sentinels promote another node (the lag is below down-after); the writes it took until then are lost unless",
    "# the client waited for a replica (WAIT 1).",
    `min-replicas-to-write ${r.minReplicasToWrite}`,
    `min-replicas-max-lag ${r.minReplicasMaxLag}`,
    ...(isInitialMaster
      ? ["# This node starts as master; Sentinel moves the role on failover."]
      : [`replicaof ${initialMasterAddress(config, nodes)} ${redis.port}`]),
    "",
    "# Memory",
    `maxmemory ${memory.maxmemory}`,
    `maxmemory-policy ${memory.policy}`,
    "",
    ...processDirectives(config),
    "",
  ].join("\n");
}
