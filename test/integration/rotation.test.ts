import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalCluster, withClient, type ClientAuth } from "../../src/local";
import { rotatePassword } from "../../src/ops/rotate";
import { parseSpec } from "../../src/spec";
import { killMaster, restartAsReplica } from "./failover-checks";
import { processesUnder } from "./leaks";

// The rotation procedure of the README, against a real ACL-mode cluster on 127.0.16.11-13: for each user, add the
// new password everywhere, store it where the nodes read their secrets, then drop the old one. No process restarts.
jest.setTimeout(240_000);

const config = parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } });
let cluster: LocalCluster;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotation-test-"));
  cluster = await LocalCluster.up(config, { dir, firstAddress: "127.0.16.11" });
});

afterAll(async () => {
  if (cluster) await cluster.down();
  expect(processesUnder(dir)).toEqual([]);
  fs.rmSync(dir, { recursive: true, force: true });
});

const sentinels = () => cluster.nodes.map((n) => ({ host: n.address, port: n.sentinelPort }));
// The operator logs in with what the secret store holds now.
const operator = () => ({ redis: cluster.credentials("admin"), sentinel: cluster.credentials("sentinel") });
const logsIn = (address: string, port: number, auth: ClientAuth) =>
  withClient(address, port, auth, (c) => c.ping()).then(
    (reply) => reply === "PONG",
    () => false,
  );
/** Where each user exists: Redis for all, the sentinels for the application and sentinel users. */
const ports = (user: string) => (user === "app" || user === "sentinel" ? [6379, 26379] : [6379]);

test.each(["app", "admin", "replication", "sentinel"])("%s: both passwords work during the switch, only the new one after", async (user) => {
  const key = `${user}-password`;
  const old = cluster.secret(key);
  const next = randomBytes(18).toString("base64url");

  const add = await rotatePassword({ sentinels: sentinels(), masterName: "mymaster", credentials: operator(), user, phase: "add", password: next });
  expect(add.steps.filter((s) => !s.ok)).toEqual([]);
  for (const node of cluster.nodes) {
    for (const port of ports(user)) {
      expect(await logsIn(node.address, port, { username: user, password: old })).toBe(true);
      expect(await logsIn(node.address, port, { username: user, password: next })).toBe(true);
    }
  }

  // The secret store now holds the new password: a node that boots writes it.
  fs.writeFileSync(cluster.secretFile(key), next, { mode: 0o600 });
  const drop = await rotatePassword({ sentinels: sentinels(), masterName: "mymaster", credentials: operator(), user, phase: "drop", password: old });
  expect(drop.steps.filter((s) => !s.ok)).toEqual([]);
  for (const node of cluster.nodes) {
    for (const port of ports(user)) {
      expect(await logsIn(node.address, port, { username: user, password: old })).toBe(false);
      expect(await logsIn(node.address, port, { username: user, password: next })).toBe(true);
    }
  }
  expect((await cluster.waitHealthy(30_000)).problems).toEqual([]);
  // A sentinel that logged in to a peer before the peer accepted the new password counts it down only after
  // down-after: the cluster must still be healthy then, with no further wait.
  await sleep(config.sentinel.downAfterMilliseconds + 2000);
  expect((await cluster.status()).problems).toEqual([]);
});

test("after every rotation the cluster fails over, and rebooted nodes come back with the new passwords", async () => {
  const result = await killMaster(cluster, 0);
  expect(result.readBack).toEqual([...result.acknowledged.values()]);
  await restartAsReplica(cluster, 0, result.newMaster);
  // A reboot runs the boot script, which writes the stored (new) passwords; nothing older survives in the configs.
  await cluster.reboot(1);
  expect((await cluster.waitHealthy(60_000)).problems).toEqual([]);
  const live = fs.readFileSync(path.join(dir, "node-1", "redis.conf"), "utf8");
  expect(live).not.toMatch(/^masterauth /m);
});
