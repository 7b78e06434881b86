import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalCluster, withClient } from "../../src/local";
import { runBootScript, stageNode } from "../../src/local/boot";
import { fieldsOf } from "../../src/local/client";
import { startProcess, stopProcess } from "../../src/local/processes";
import { NODE_FILES, renderCluster } from "../../src/render";
import { parseSpec } from "../../src/spec";
import { processesUnder } from "./leaks";

// The README's "Scale from 3 to 5 nodes", against real processes on 127.0.22.11-15: a 3-node cluster runs; the
// spec says 5 nodes; the two new nodes boot from the 5-node render (their boot scripts ask the sentinels for the
// master), the running sentinels get the new quorum with SENTINEL SET, and every sentinel then sees 4 replicas and
// 4 other sentinels.
jest.setTimeout(180_000);

const auth = { secrets: { source: "env", prefix: "REDIS_HA_" } } as const;
const addresses = ["127.0.22.11", "127.0.22.12", "127.0.22.13", "127.0.22.14", "127.0.22.15"];
const three = parseSpec({ auth });
const five = parseSpec({ auth, topology: { nodeCount: 5 } });
let cluster: LocalCluster;
let dir: string;
const pids: number[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "scale-test-"));
  cluster = await LocalCluster.up(three, { dir, firstAddress: addresses[0] });
});

afterAll(async () => {
  await Promise.all(pids.map((pid) => stopProcess(pid)));
  if (cluster) await cluster.down();
  expect(processesUnder(dir)).toEqual([]);
  fs.rmSync(dir, { recursive: true, force: true });
});

const sentinelView = (address: string) =>
  withClient(address, 26379, cluster.credentials("sentinel"), async (c) => ({
    master: fieldsOf(await c.call("SENTINEL", "MASTER", "mymaster")),
    ckquorum: String(await c.call("SENTINEL", "CKQUORUM", "mymaster")),
  }));

test("two nodes booted from the 5-node render join as replicas, and every sentinel counts 5 once the quorum is raised", async () => {
  // A failover first, so that the new nodes must find a master other than the rendered one.
  await cluster.stop("redis", 0, "SIGKILL");
  let master = addresses[0];
  for (const until = Date.now() + 30_000; master === addresses[0] && Date.now() < until; ) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    master = (await sentinelView(addresses[1]).catch(() => undefined))?.master.ip ?? master;
  }
  expect(master).not.toBe(addresses[0]);
  cluster.start("redis", 0);

  const rendered = renderCluster(five, { addresses });
  for (const index of [3, 4]) {
    const home = path.join(dir, `node-${index}`);
    const staged = stageNode(rendered[index], path.join(dir, "rendered", `node-${index}`), home);
    const boot = runBootScript(staged, { REDIS_HA_SECRETS_DIR: path.join(dir, "secrets") });
    expect(boot.stderr).toBe("");
    expect(boot.stdout).toContain(`the sentinels name ${master} as master`);
    pids.push(startProcess("redis-server", [NODE_FILES.redisConf], home, path.join(home, "redis.log")));
    pids.push(startProcess("redis-sentinel", [NODE_FILES.sentinelConf], home, path.join(home, "sentinel.log")));
  }
  // The running sentinels take the 5-node quorum (3) at run time; their configs keep it (Sentinel rewrites them).
  for (const address of addresses.slice(0, 3)) {
    await withClient(address, 26379, cluster.credentials("sentinel"), (c) => c.call("SENTINEL", "SET", "mymaster", "quorum", "3"));
  }

  let views: Awaited<ReturnType<typeof sentinelView>>[] = [];
  for (const until = Date.now() + 60_000; Date.now() < until; ) {
    views = await Promise.all(addresses.map((a) => sentinelView(a).catch(() => ({ master: {}, ckquorum: "" }) as never)));
    const settled = views.every(
      (v) => v.master.ip === master && v.master["num-slaves"] === "4" && v.master["num-other-sentinels"] === "4" && v.master.quorum === "3",
    );
    if (settled && views.every((v) => v.ckquorum.startsWith("OK 5 usable Sentinels"))) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  for (const view of views) {
    expect(view.master).toMatchObject({ ip: master, "num-slaves": "4", "num-other-sentinels": "4", quorum: "3" });
    expect(view.ckquorum).toMatch(/^OK 5 usable Sentinels/);
  }

  // Writes reach the new replicas.
  await withClient(master, 6379, cluster.credentials("app"), async (c) => {
    await c.set("after-scaling", "yes");
    expect(Number(await c.call("WAIT", "4", "5000"))).toBe(4);
  });
  for (const address of addresses.slice(3)) {
    expect(await withClient(address, 6379, cluster.credentials("app"), (c) => c.get("after-scaling"))).toBe("yes");
  }
});
