import { formatCheck, verifyCluster, type Check } from "../ops/verify";
import { clientAuth, type Credentials } from "./client";

/** Where one node's Redis and Sentinel listen. */
export interface NodeEndpoint {
  readonly address: string;
  readonly redisPort: number;
  /** Where the node's Sentinel listens, when apart from Redis. @default address */
  readonly sentinelAddress?: string;
  readonly sentinelPort: number;
}

export interface RedisStatus {
  readonly reachable: boolean;
  readonly error?: string;
  readonly role?: string;
  /** On a replica: its master as `address:port`, and whether the link is up. */
  readonly master?: string;
  readonly linkUp?: boolean;
  readonly offset?: number;
  /** On a master: replicas in state `online`. */
  readonly replicasOnline?: number;
  /** On a master: the error a write got (the write probe), such as NOREPLICAS; absent when it would take writes. */
  readonly refusesWrites?: string;
}

export interface SentinelStatus {
  readonly reachable: boolean;
  readonly error?: string;
  /** The master this sentinel names, as `address:port`. */
  readonly master?: string;
  /** Replicas this sentinel knows that are neither down nor disconnected. */
  readonly replicasOk?: number;
  readonly otherSentinels?: number;
  /** The reply of `SENTINEL CKQUORUM`, or its error. */
  readonly ckquorum?: string;
  readonly ckquorumOk?: boolean;
}

export interface NodeStatus {
  readonly index: number;
  readonly address: string;
  readonly redis: RedisStatus;
  readonly sentinel: SentinelStatus;
}

export interface ClusterStatus {
  readonly masterName: string;
  readonly nodes: readonly NodeStatus[];
  /** The master every sentinel names, when they agree. */
  readonly master?: string;
  /** The verdict's checks, as `redis-ha verify` reports them (with a `node` check per server). */
  readonly checks: readonly Check[];
  /** The checks that failed, one line each (`<check> <target>: <what was found>`); empty when healthy. */
  readonly problems: readonly string[];
  readonly healthy: boolean;
}

/**
 * Asks every Redis and every Sentinel of a cluster for its view, and judges it: `verifyCluster`, the operators'
 * verdict, with every node's server given and n-1 replicas expected. The credentials are the Redis servers' and the
 * sentinels' (the same in password mode).
 */
export async function inspectCluster(
  nodes: readonly NodeEndpoint[],
  masterName: string,
  credentials: { readonly redis: Credentials; readonly sentinel: Credentials },
): Promise<ClusterStatus> {
  const result = await verifyCluster({
    sentinels: nodes.map((node) => ({ host: node.sentinelAddress ?? node.address, port: node.sentinelPort })),
    nodes: nodes.map((node) => ({ host: node.address, port: node.redisPort })),
    masterName,
    credentials: { redis: clientAuth(credentials.redis), sentinel: clientAuth(credentials.sentinel) },
    replicas: nodes.length - 1,
  });
  const statuses: NodeStatus[] = nodes.map((node, index) => {
    const r = result.nodes[index];
    const t = result.sentinels[index];
    const redis: RedisStatus = !r.reachable
      ? { reachable: false, error: r.error }
      : {
          reachable: true,
          role: r.role,
          ...(r.master !== undefined ? { master: r.master, linkUp: r.linkUp } : {}),
          offset: r.offset,
          ...(r.replicasOnline !== undefined ? { replicasOnline: r.replicasOnline } : {}),
          ...(r.node === result.master && result.masterRefusal !== undefined ? { refusesWrites: result.masterRefusal } : {}),
        };
    const sentinel: SentinelStatus = !t.reachable
      ? { reachable: false, error: t.error }
      : {
          reachable: true,
          master: t.master,
          replicasOk: t.replicasOk,
          otherSentinels: t.otherSentinels,
          ckquorum: t.ckquorum,
          ckquorumOk: t.ckquorumOk,
        };
    return { index, address: node.address, redis, sentinel };
  });
  const named = new Set(result.sentinels.filter((t) => t.reachable).map((t) => t.master));
  const problems = result.checks.filter((c) => !c.ok).map((c) => formatCheck(c).replace(/^FAIL\s+/, ""));
  return {
    masterName,
    nodes: statuses,
    ...(named.size === 1 ? { master: [...named][0] } : {}),
    checks: result.checks,
    problems,
    healthy: result.ok,
  };
}

/** A status as text for people: one line per node, then the verdict. */
export function formatStatus(status: ClusterStatus): string {
  const lines = [`Redis Sentinel cluster "${status.masterName}": master ${status.master ?? "(no agreement)"}`];
  for (const s of status.nodes) {
    const r = s.redis;
    const redis = !r.reachable
      ? `redis DOWN (${r.error})`
      : r.role === "master"
        ? `redis master, ${r.replicasOnline} replicas online, offset ${r.offset}${r.refusesWrites ? `, REFUSES WRITES (${r.refusesWrites})` : ""}`
        : `redis replica of ${r.master}, link ${r.linkUp ? "up" : "DOWN"}, offset ${r.offset}`;
    const t = s.sentinel;
    const sentinel = !t.reachable
      ? `sentinel DOWN (${t.error})`
      : `sentinel: master ${t.master}, ${t.replicasOk} replicas ok, ${t.otherSentinels} other sentinels, CKQUORUM ${t.ckquorum}`;
    lines.push(`  node ${s.index} ${s.address}: ${redis}; ${sentinel}`);
  }
  lines.push(status.healthy ? "Healthy." : `Not healthy:\n${status.problems.map((p) => `  - ${p}`).join("\n")}`);
  return lines.join("\n");
}
