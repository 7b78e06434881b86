import * as fs from "node:fs";
import * as path from "node:path";
import { NODE_FILES } from "../render";
import { parseInfo, withClient } from "./client";
import type { LocalCluster } from "./cluster";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The value of `directive` in a redis.conf text (its last occurrence), or undefined. */
function directive(conf: string, name: string): string | undefined {
  const lines = conf.split("\n").filter((line) => line.startsWith(`${name} `));
  return lines.length > 0 ? lines[lines.length - 1].slice(name.length + 1).trim() : undefined;
}

/**
 * Restores the RDB snapshot `rdbFile` (from the rendered backup script) into a running local cluster, by the steps
 * of docs/backup-restore.md: stop every sentinel, then every Redis; empty every node's data directory and place
 * the snapshot on the node the sentinels named master; start that Redis with `appendonly no` (with AOF on, Redis
 * would load the empty AOF and ignore the snapshot), turn AOF back on (Redis writes the AOF from the loaded data)
 * and CONFIG REWRITE; then start the replicas (they copy the master in a full sync) and the sentinels, and wait
 * until the cluster is healthy. Resolves with the master's address.
 */
export async function restoreFromRdb(cluster: LocalCluster, rdbFile: string, timeoutMs = 60_000): Promise<string> {
  if (!fs.existsSync(rdbFile)) throw new Error(`no snapshot at ${rdbFile}`);
  const status = await cluster.status();
  if (!status.master) throw new Error(`the sentinels of the cluster in ${cluster.dir} name no master: ${status.problems.join("; ")}`);
  const master = status.master.split(":")[0];
  const masterIndex = cluster.nodes.findIndex((n) => n.address === master);
  if (masterIndex < 0) throw new Error(`the sentinels name ${status.master}, which is not a node of the cluster in ${cluster.dir}`);
  const home = (index: number) => path.join(cluster.dir, `node-${index}`);
  const indexes = cluster.nodes.map((_, i) => i);

  // Sentinels first, so that none fails over while Redis is down.
  for (const i of indexes) await cluster.stop("sentinel", i);
  for (const i of indexes) await cluster.stop("redis", i);

  for (const i of indexes) {
    const data = path.join(home(i), NODE_FILES.dataDir);
    for (const entry of fs.readdirSync(data)) fs.rmSync(path.join(data, entry), { recursive: true, force: true });
  }
  const confFile = path.join(home(masterIndex), NODE_FILES.redisConf);
  const conf = fs.readFileSync(confFile, "utf8");
  const dbfilename = directive(conf, "dbfilename") ?? "dump.rdb";
  fs.copyFileSync(rdbFile, path.join(home(masterIndex), NODE_FILES.dataDir, dbfilename));
  const aof = directive(conf, "appendonly") === "yes";
  if (aof) fs.writeFileSync(confFile, conf.replace(/^appendonly yes$/gm, "appendonly no"));

  const node = cluster.nodes[masterIndex];
  const redis = <T>(fn: Parameters<typeof withClient<T>>[3]) => withClient(node.address, node.redisPort, cluster.credentials("admin"), fn);
  const persistence = async () => parseInfo(String(await redis((c) => c.info("persistence"))));
  const until = async (what: string, ok: (info: Record<string, string>) => boolean) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await persistence().catch(() => undefined);
      if (info && ok(info)) return;
      if (Date.now() > deadline) throw new Error(`restoring ${rdbFile} on ${node.address}: ${what} not reached in ${timeoutMs} ms`);
      await sleep(200);
    }
  };

  cluster.start("redis", masterIndex);
  await until("the snapshot loaded", (i) => i.loading === "0");
  if (aof) {
    await redis((c) => c.config("SET", "appendonly", "yes"));
    await until(
      "the AOF rewritten from the loaded data",
      (i) => i.aof_enabled === "1" && i.aof_rewrite_in_progress === "0" && i.aof_rewrite_scheduled === "0",
    );
    const info = await persistence();
    if (info.aof_last_bgrewrite_status !== "ok") throw new Error(`restoring ${rdbFile}: the AOF rewrite on ${node.address} failed`);
    // Writes `appendonly yes` back into the live redis.conf.
    await redis((c) => c.config("REWRITE"));
  }

  for (const i of indexes) if (i !== masterIndex) cluster.start("redis", i);
  for (const i of indexes) cluster.start("sentinel", i);
  await cluster.waitHealthy(timeoutMs);
  return master;
}
