import * as fs from "node:fs";
import * as path from "node:path";
import { LocalCluster, withClient } from "../../src/local";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a kill -9 of the master gave. */
export interface FailoverResult {
  readonly newMaster: string;
  /** From the kill to the first write the new master accepted. */
  readonly killToWritableMs: number;
  /** Writes acknowledged by a replica (WAIT 1) before the kill, and what the new master returns for them. */
  readonly acknowledged: ReadonlyMap<string, string>;
  readonly readBack: ReadonlyArray<string | null>;
}

const redisOf = (cluster: LocalCluster, address: string) => {
  const port = cluster.nodes.find((n) => n.address === address)!.redisPort;
  return <T>(fn: Parameters<typeof withClient<T>>[3]) => withClient(address, port, cluster.credentials("app"), fn);
};

/**
 * The foundation's failover check: writes `count` keys to node `masterIndex` (the master), each acknowledged by a
 * replica with WAIT 1; kills that Redis with SIGKILL; asks another node's sentinel until it names a new master,
 * and writes to it until it accepts; then reads the acknowledged keys back from it.
 */
export async function killMaster(cluster: LocalCluster, masterIndex: number, count = 200): Promise<FailoverResult> {
  const old = cluster.nodes[masterIndex];
  const witness = cluster.nodes.find((n) => n !== old)!;
  const acknowledged = new Map<string, string>();
  await redisOf(cluster, old.address)(async (c) => {
    for (let i = 0; i < count; i++) {
      await c.set(`ack:${i}`, `value-${i}`);
      if (Number(await c.call("WAIT", "1", "1000")) >= 1) acknowledged.set(`ack:${i}`, `value-${i}`);
    }
  });

  const killedAt = Date.now();
  await cluster.stop("redis", masterIndex, "SIGKILL");
  for (const until = killedAt + 60_000; Date.now() < until; await sleep(100)) {
    const named = await withClient(witness.sentinelAddress ?? witness.address, witness.sentinelPort, cluster.credentials("app"), async (c) =>
      ((await c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", cluster.masterName)) as string[])[0],
    ).catch(() => old.address);
    if (named === old.address) continue;
    const ok = await redisOf(cluster, named)((c) => c.set("after-failover", "1")).catch(() => undefined);
    if (ok !== "OK") continue;
    const killToWritableMs = Date.now() - killedAt;
    const readBack = await redisOf(cluster, named)((c) => c.mget(...acknowledged.keys()));
    return { newMaster: named, killToWritableMs, acknowledged, readBack };
  }
  throw new Error(`no writable master other than ${old.address} within 60 s of the kill`);
}

/** Restarts node `index`'s Redis from its rewritten config; resolves once it is healthy as a replica of `master`. */
export async function restartAsReplica(cluster: LocalCluster, index: number, master: string): Promise<void> {
  cluster.start("redis", index);
  const status = await cluster.waitHealthy(60_000);
  const port = cluster.nodes[index].redisPort;
  if (status.master !== `${master}:${port}`) throw new Error(`the sentinels name ${status.master}, not ${master}`);
  const node = status.nodes[index].redis;
  if (node.role !== "slave" || node.master !== `${master}:${port}` || !node.linkUp) {
    throw new Error(`node ${index} is not a replica of ${master} with its link up: ${JSON.stringify(node)}`);
  }
  // Its rewritten config says so too: a later restart keeps it a replica.
  const conf = fs.readFileSync(path.join(cluster.dir, `node-${index}`, "redis.conf"), "utf8");
  if (!conf.split("\n").includes(`replicaof ${master} ${port}`)) throw new Error(`node ${index}'s redis.conf does not follow ${master}`);
}

/** A client writing without pause, see `startWriter`. */
export interface Writer {
  /** Stops writing; resolves with the writes a replica acknowledged (WAIT 1) and the longest wait of one write. */
  stop(): Promise<{ readonly acknowledged: ReadonlyMap<string, string>; readonly longestWaitMs: number }>;
}

/**
 * Starts a client that writes keys `<prefix>:<n>` one after another to whichever node the sentinels name master,
 * confirming each with WAIT 1, as an application following the sentinels would.
 */
export function startWriter(cluster: LocalCluster, prefix: string): Writer {
  const password = cluster.credentials("app");
  const witness = cluster.nodes[cluster.nodes.length - 1];
  const masterNow = () =>
    withClient(witness.sentinelAddress ?? witness.address, witness.sentinelPort, password, async (c) =>
      ((await c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", cluster.masterName)) as string[])[0],
    );
  const acknowledged = new Map<string, string>();
  let stopped = false;
  let longestWaitMs = 0;
  let master = cluster.nodes[0].address;
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const started = Date.now();
      master = await masterNow().catch(() => master);
      const port = cluster.nodes.find((n) => n.address === master)?.redisPort ?? 6379;
      const ok = await withClient(master, port, password, async (c) => {
        await c.set(`${prefix}:${i}`, `v${i}`);
        return Number(await c.call("WAIT", "1", "1000")) >= 1;
      }, 20_000).catch(() => false);
      if (ok) acknowledged.set(`${prefix}:${i}`, `v${i}`);
      longestWaitMs = Math.max(longestWaitMs, Date.now() - started);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { acknowledged, longestWaitMs };
    },
  };
}
