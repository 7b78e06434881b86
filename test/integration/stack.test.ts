import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { App } from "cdktf";
import { LocalCluster, userDataOfStack } from "../../src/local";
import { buildApp } from "../../stacks/app";
import { ENVIRONMENTS } from "../../stacks/environments";
import { killMaster, restartAsReplica } from "./failover-checks";
import { processesUnder } from "./leaks";

// The dev stack as deployed: its synthesized user data booted on 127.0.6.11-13 (addresses moved to loopback and
// the password made locally; nothing else changed), then the foundation's failover checks.
jest.setTimeout(120_000);

const root = fs.mkdtempSync(path.join(os.tmpdir(), "stack-test-"));
const dir = path.join(root, "cluster");
let cluster: LocalCluster;

beforeAll(async () => {
  const outdir = path.join(root, "cdktf.out");
  buildApp(ENVIRONMENTS, new App({ outdir })).synth();
  cluster = await LocalCluster.upFromUserData(userDataOfStack(outdir, "redis-sentinel-dev"), {
    dir,
    firstAddress: "127.0.6.11",
  });
});

afterAll(async () => {
  if (cluster) await cluster.down();
  expect(processesUnder(dir)).toEqual([]);
  fs.rmSync(root, { recursive: true, force: true });
});

test("the dev stack's nodes boot into a healthy cluster", async () => {
  const status = await cluster.status();
  expect(status.problems).toEqual([]);
  expect(status.master).toBe("127.0.6.11:6379");
  // The dev environment's own setting, from its user data.
  const conf = fs.readFileSync(path.join(dir, "rendered", "node-0", "redis.conf"), "utf8");
  expect(conf).toContain("\nmaxmemory 256mb\n");
});

test("kill -9 of its master: a new master, writable, with every acknowledged write; the old one rejoins", async () => {
  const failover = await killMaster(cluster, 0);
  expect(failover.readBack).toEqual([...failover.acknowledged.values()]);
  expect(failover.acknowledged.size).toBe(200);
  await restartAsReplica(cluster, 0, failover.newMaster);
});
