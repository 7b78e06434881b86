import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalCluster, localAddresses } from "../../src/local";
import { renderPreStopScript, renderProbeScript } from "../../src/render";
import { parseSpec } from "../../src/spec";
import { killMaster, restartAsReplica } from "./failover-checks";
import { processesUnder } from "./leaks";

// Sentinels apart from Redis: Redis on 127.0.10.11-13, the sentinels on 127.0.10.21-23.
jest.setTimeout(120_000);

const config = parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } });
const nodes = { addresses: localAddresses(3, "127.0.10.11"), sentinelAddresses: localAddresses(3, "127.0.10.21") };
const root = fs.mkdtempSync(path.join(os.tmpdir(), "separate-test-"));
const dir = path.join(root, "cluster");
let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await LocalCluster.up(config, { dir, firstAddress: "127.0.10.11", separateSentinels: true });
});

afterAll(async () => {
  if (cluster) await cluster.down();
  expect(processesUnder(dir)).toEqual([]);
  fs.rmSync(root, { recursive: true, force: true });
});

const run = (name: string, text: string, ...args: string[]) => {
  const file = path.join(root, name);
  fs.writeFileSync(file, text);
  return spawnSync("bash", [file, ...args], {
    encoding: "utf8",
    env: { PATH: process.env.PATH, REDIS_HA_SECRETS_DIR: path.join(dir, "secrets") },
  });
};

test("the sentinels on their own addresses see both replicas and each other", async () => {
  const status = await cluster.status();
  expect(status.problems).toEqual([]);
  expect(cluster.nodes.map((n) => n.sentinelAddress)).toEqual(["127.0.10.21", "127.0.10.22", "127.0.10.23"]);
  for (const node of status.nodes) expect(node.sentinel).toMatchObject({ master: "127.0.10.11:6379", replicasOk: 2, otherSentinels: 2 });
  const probe = run("probe.sh", renderProbeScript(config, nodes, 1), "sentinel");
  expect(probe.stderr).toBe("");
  expect(probe.status).toBe(0);
});

test("kill -9 of the master: a writable new master with every acknowledged write; the old one rejoins", async () => {
  const failover = await killMaster(cluster, 0);
  expect(failover.readBack).toEqual([...failover.acknowledged.values()]);
  await restartAsReplica(cluster, 0, failover.newMaster);
});

test("the preStop script asks the separate sentinels for the hand-over", async () => {
  const master = (await cluster.status()).master!.split(":")[0];
  const index = nodes.addresses.indexOf(master);
  const result = run("prestop.sh", renderPreStopScript(config, nodes, index));
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(/^redis-ha-prestop: 127\.0\.10\.1[123] is master now; this node is a replica\n$/);
  const after = await cluster.waitHealthy(60_000);
  expect(after.master).not.toBe(`${master}:6379`);
});
