import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalCluster, withClient } from "../../src/local";
import { parseSpec } from "../../src/spec";
import { makeCertificates } from "./certificates";
import { killMaster, restartAsReplica } from "./failover-checks";
import { processesUnder } from "./leaks";

// ACL and TLS together, as the constructs deploy them: a real cluster on 127.0.18.11-13 with certificates made by
// openssl at test time. Plain text is closed; every link (clients, replication, sentinels) uses TLS.
jest.setTimeout(180_000);

const addresses = ["127.0.18.11", "127.0.18.12", "127.0.18.13"];
const config = parseSpec({
  auth: { secrets: { source: "env", prefix: "REDIS_HA_" } },
  tls: { enabled: true, certificates: { source: "directory", path: "/etc/redis-ha/tls" } },
});
let cluster: LocalCluster;
let root: string;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "tls-test-"));
  const tlsDir = makeCertificates(path.join(root, "certificates"), addresses);
  cluster = await LocalCluster.up(config, { dir: path.join(root, "cluster"), firstAddress: addresses[0], tlsDir });
});

afterAll(async () => {
  if (cluster) await cluster.down();
  expect(processesUnder(root)).toEqual([]);
  fs.rmSync(root, { recursive: true, force: true });
});

test("the configs listen on TLS only, replicate over TLS, and the cluster is healthy", async () => {
  const status = await cluster.status();
  expect(status.problems).toEqual([]);
  const conf = fs.readFileSync(path.join(cluster.dir, "node-1", "redis.conf"), "utf8");
  expect(conf).toMatch(/^port 0$/m);
  expect(conf).toMatch(/^tls-port 6379$/m);
  expect(conf).toMatch(/^tls-replication yes$/m);
  const info = await withClient(addresses[0], 6379, cluster.credentials("admin"), (c) => c.info("replication"));
  expect(info).toContain("connected_slaves:2");
});

test.each([
  ["redis", 6379],
  ["sentinel", 26379],
])("%s refuses a plain-text client, even with the right password", async (_, port) => {
  const { tls: _tls, ...plain } = cluster.credentials("app");
  await expect(withClient(addresses[1], port, plain, (c) => c.ping(), 2000)).rejects.toThrow();
  expect(await withClient(addresses[1], port, cluster.credentials("app"), (c) => c.ping())).toBe("PONG");
});

test("an unknown user and a wrong password are refused; the app user may not administer Redis or the sentinels", async () => {
  const app = cluster.credentials("app");
  await expect(withClient(addresses[0], 6379, { ...app, username: "nobody" }, (c) => c.ping())).rejects.toThrow();
  await expect(withClient(addresses[0], 6379, { ...app, password: "wrong" }, (c) => c.ping())).rejects.toThrow();
  await expect(withClient(addresses[0], 6379, { ...app, username: "default" }, (c) => c.ping())).rejects.toThrow();
  await withClient(addresses[0], 6379, app, async (c) => {
    expect(await c.set("k", "v")).toBe("OK");
    await expect(c.call("CONFIG", "GET", "maxmemory")).rejects.toThrow(/^NOPERM/);
    await expect(c.call("FLUSHALL")).rejects.toThrow(/^NOPERM/);
  });
  await withClient(addresses[0], 26379, app, async (c) => {
    expect(await c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")).toEqual([addresses[0], "6379"]);
    await expect(c.call("SENTINEL", "FAILOVER", "mymaster")).rejects.toThrow(/^NOPERM/);
    await expect(c.call("SENTINEL", "SET", "mymaster", "quorum", "1")).rejects.toThrow(/^NOPERM/);
  });
  // The replication user can replicate and nothing else.
  const replication = { username: "replication", password: cluster.secret("replication-password"), tls: app.tls };
  await withClient(addresses[0], 6379, replication, async (c) => {
    await expect(c.get("k")).rejects.toThrow(/^NOPERM/);
  });
});

test("a kill -9 of the master fails over over TLS with every acknowledged write kept; the old master rejoins", async () => {
  const result = await killMaster(cluster, 0);
  expect(result.killToWritableMs).toBeLessThanOrEqual(config.sentinel.downAfterMilliseconds + 3000);
  expect(result.readBack).toEqual([...result.acknowledged.values()]);
  await restartAsReplica(cluster, 0, result.newMaster);
});
