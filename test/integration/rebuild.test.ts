import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalCluster, withClient } from "../../src/local";
import { parseSpec } from "../../src/spec";
import { processesUnder } from "./leaks";

// The boot script's role decision, for real on 127.0.5.11-13: a node replaced by a new machine with a new disk
// asks the sentinels where the master is before it installs its configs.
jest.setTimeout(180_000);

const config = parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let cluster: LocalCluster;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "rebuild-test-"));
  cluster = await LocalCluster.up(config, { dir, firstAddress: "127.0.5.11" });
});

afterAll(async () => {
  if (cluster) await cluster.down();
  expect(processesUnder(dir)).toEqual([]);
  fs.rmSync(dir, { recursive: true, force: true });
});

const masterNamedBy = (address: string) =>
  withClient(address, config.sentinel.port, cluster.credentials("app"), async (c) =>
    ((await c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", config.topology.masterName)) as string[])[0],
  );

/** Kills node `index`'s Redis and waits until the sentinel on `witness` names another master. */
async function failOver(index: number, witness: string): Promise<string> {
  const old = cluster.nodes[index].address;
  await cluster.stop("redis", index, "SIGKILL");
  for (const until = Date.now() + 60_000; Date.now() < until; await sleep(250)) {
    const named = await masterNamedBy(witness).catch(() => old);
    if (named !== old) return named;
  }
  throw new Error(`no failover away from ${old}`);
}

const liveConfig = (index: number, file: string) => fs.readFileSync(path.join(dir, `node-${index}`, file), "utf8");
const directives = (text: string, prefix: string) => text.split("\n").filter((l) => l.startsWith(prefix));

test("a node rebuilt after a failover joins the current master instead of starting a second one", async () => {
  // Node 0 is the rendered initial master. Fail it over, then replace it with an empty machine.
  const current = await failOver(0, "127.0.5.12");
  const printed = await cluster.rebuild(0);
  expect(printed).toContain(`redis-ha-boot: the sentinels name ${current} as master`);
  // Its configs now follow the current master, not the rendered topology.
  expect(directives(liveConfig(0, "redis.conf"), "replicaof")).toEqual([`replicaof ${current} 6379`]);
  expect(directives(liveConfig(0, "sentinel.conf"), "sentinel monitor")).toEqual([
    `sentinel monitor mymaster ${current} 6379 2`,
  ]);

  cluster.start("redis", 0);
  cluster.start("sentinel", 0);
  const status = await cluster.waitHealthy(60_000);
  expect(status.master).toBe(`${current}:6379`);
  expect(status.nodes[0].redis).toMatchObject({ role: "slave", master: `${current}:6379`, linkUp: true });
});

test("an empty node that the sentinels still name as master waits for their failover, then follows it", async () => {
  const status = await cluster.status();
  const master = status.master!.split(":")[0];
  const index = cluster.nodes.findIndex((n) => n.address === master);
  const witness = cluster.nodes.find((n) => n.address !== master)!.address;
  await withClient(master, 6379, cluster.credentials("app"), async (c) => {
    await c.set("kept", "across the rebuild");
    await c.call("WAIT", "2", "5000");
  });

  // The master's machine is replaced at once: its Redis and Sentinel are gone, its disk is new and empty, and
  // the other sentinels have not yet noticed. The boot script must not start it as an empty master.
  await cluster.stop("redis", index, "SIGKILL");
  const printed = await cluster.rebuild(index);
  expect(printed).toContain("redis-ha-boot: the sentinels name this node, which has no data, as master: waiting for a failover");
  const successor = await masterNamedBy(witness);
  expect(successor).not.toBe(master);
  expect(printed).toContain(`redis-ha-boot: the sentinels name ${successor} as master`);
  expect(directives(liveConfig(index, "redis.conf"), "replicaof")).toEqual([`replicaof ${successor} 6379`]);

  cluster.start("redis", index);
  cluster.start("sentinel", index);
  const healed = await cluster.waitHealthy(60_000);
  expect(healed.master).toBe(`${successor}:6379`);
  expect(await withClient(master, 6379, cluster.credentials("app"), (c) => c.get("kept"))).toBe("across the rebuild");
});

test("with no sentinel answering, the empty rendered master refuses to start as master while a peer holds data", async () => {
  // The whole cluster restarts and node 0, the rendered master, comes back with a new, empty disk.
  for (const index of [0, 1, 2]) await cluster.stop("sentinel", index);
  await expect(cluster.rebuild(0, { REDIS_HA_WAIT_SECONDS: "2" })).rejects.toThrow(
    "the boot script of node 0 failed: redis-ha-boot: this node has no data and would still start as master after 2 s: refusing to start an empty master\n" +
      "redis-ha-boot: no sentinel answers, and this node has no data while a peer holds some or does not answer: waiting",
  );
  expect(fs.existsSync(path.join(dir, "node-0", "redis.conf"))).toBe(false);

  // Once the other sentinels are back, they name a master that holds the data, and node 0 follows it.
  cluster.start("sentinel", 1);
  cluster.start("sentinel", 2);
  let printed = "";
  for (const until = Date.now() + 60_000; !printed && Date.now() < until; ) {
    printed = await cluster.rebuild(0, { REDIS_HA_WAIT_SECONDS: "2" }).catch(() => "");
  }
  const master = /the sentinels name (\S+) as master/.exec(printed)?.[1];
  expect(master).toMatch(/^127\.0\.5\.1[23]$/);
  cluster.start("redis", 0);
  cluster.start("sentinel", 0);
  const status = await cluster.waitHealthy(60_000);
  expect(status.nodes[0].redis).toMatchObject({ role: "slave", master: `${master}:6379`, linkUp: true });
  expect(await withClient("127.0.5.11", 6379, cluster.credentials("app"), (c) => c.get("kept"))).toBe("across the rebuild");
});
