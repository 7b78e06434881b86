import { writeRefusal } from "../ops/write-probe";
import { fieldsOf, parseInfo, withClient, type Credentials } from "./client";

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
  /**
   * Empty when healthy: every sentinel agrees on a master that has n-1 replicas online, takes a write (the write
   * probe), and knows n-1 sentinels.
   */
  readonly problems: readonly string[];
  readonly healthy: boolean;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function redisStatus(node: NodeEndpoint, credentials: Credentials): Promise<RedisStatus> {
  try {
    let refusesWrites: string | undefined;
    const info = parseInfo(
      await withClient(node.address, node.redisPort, credentials, async (c) => {
        const text = await c.info("replication");
        if (/^role:master\s*$/m.test(text)) refusesWrites = await writeRefusal(c);
        return text;
      }),
    );
    const role = info.role;
    if (role === "slave") {
      return {
        reachable: true,
        role,
        master: `${info.master_host}:${info.master_port}`,
        linkUp: info.master_link_status === "up",
        offset: Number(info.slave_repl_offset),
      };
    }
    const online = Object.keys(info).filter((k) => /^slave\d+$/.test(k) && info[k].includes("state=online")).length;
    return {
      reachable: true,
      role,
      offset: Number(info.master_repl_offset),
      replicasOnline: online,
      ...(refusesWrites !== undefined ? { refusesWrites } : {}),
    };
  } catch (e) {
    return { reachable: false, error: message(e) };
  }
}

async function sentinelStatus(node: NodeEndpoint, masterName: string, credentials: Credentials): Promise<SentinelStatus> {
  try {
    return await withClient(node.sentinelAddress ?? node.address, node.sentinelPort, credentials, async (c) => {
      const master = fieldsOf(await c.call("SENTINEL", "MASTER", masterName));
      const replicas = ((await c.call("SENTINEL", "REPLICAS", masterName)) as unknown[]).map(fieldsOf);
      const replicasOk = replicas.filter(
        (r) => !/s_down|o_down|disconnected/.test(r.flags) && r["master-link-status"] === "ok",
      ).length;
      let ckquorum: string;
      let ckquorumOk: boolean;
      try {
        ckquorum = String(await c.call("SENTINEL", "CKQUORUM", masterName));
        ckquorumOk = true;
      } catch (e) {
        ckquorum = message(e);
        ckquorumOk = false;
      }
      return {
        reachable: true,
        master: `${master.ip}:${master.port}`,
        replicasOk,
        otherSentinels: Number(master["num-other-sentinels"]),
        ckquorum,
        ckquorumOk,
      };
    });
  } catch (e) {
    return { reachable: false, error: message(e) };
  }
}

/**
 * Asks every Redis and every Sentinel of a cluster for its view, and judges whether the cluster is healthy. The
 * credentials are the Redis servers' and the sentinels' (the same in password mode).
 */
export async function inspectCluster(
  nodes: readonly NodeEndpoint[],
  masterName: string,
  credentials: { readonly redis: Credentials; readonly sentinel: Credentials },
): Promise<ClusterStatus> {
  const statuses: NodeStatus[] = await Promise.all(
    nodes.map(async (node, index) => ({
      index,
      address: node.address,
      redis: await redisStatus(node, credentials.redis),
      sentinel: await sentinelStatus(node, masterName, credentials.sentinel),
    })),
  );
  const n = nodes.length;
  const problems: string[] = [];
  const named = new Set(statuses.filter((s) => s.sentinel.reachable).map((s) => s.sentinel.master));
  const master = named.size === 1 ? [...named][0] : undefined;
  if (named.size > 1) problems.push(`sentinels disagree on the master: ${[...named].join(", ")}`);

  for (const s of statuses) {
    const where = `node ${s.index} (${s.address})`;
    if (!s.redis.reachable) problems.push(`${where}: redis unreachable: ${s.redis.error}`);
    if (!s.sentinel.reachable) {
      problems.push(`${where}: sentinel unreachable: ${s.sentinel.error}`);
    } else {
      if (s.sentinel.replicasOk !== n - 1) problems.push(`${where}: sentinel sees ${s.sentinel.replicasOk} of ${n - 1} replicas`);
      if (s.sentinel.otherSentinels !== n - 1) {
        problems.push(`${where}: sentinel sees ${s.sentinel.otherSentinels} of ${n - 1} other sentinels`);
      }
      if (!s.sentinel.ckquorumOk) problems.push(`${where}: CKQUORUM: ${s.sentinel.ckquorum}`);
    }
    if (master && s.redis.reachable) {
      const isMaster = `${s.address}:${nodes[s.index].redisPort}` === master;
      if (isMaster && s.redis.role !== "master") problems.push(`${where}: sentinels name it master, but its role is ${s.redis.role}`);
      if (isMaster && s.redis.replicasOnline !== n - 1) {
        problems.push(`${where}: master has ${s.redis.replicasOnline} of ${n - 1} replicas online`);
      }
      if (isMaster && s.redis.refusesWrites !== undefined) problems.push(`${where}: master refuses writes: ${s.redis.refusesWrites}`);
      if (!isMaster && (s.redis.role !== "slave" || s.redis.master !== master || !s.redis.linkUp)) {
        problems.push(`${where}: not a replica of ${master} with its link up (role ${s.redis.role}, master ${s.redis.master ?? "-"})`);
      }
    }
  }
  if (statuses.every((s) => !s.sentinel.reachable)) problems.push("no sentinel answers");
  return { masterName, nodes: statuses, master, problems, healthy: problems.length === 0 };
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
