import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalCluster, localAddresses, withClient } from "../../src/local";
import { renderPreStopScript, renderProbeScript } from "../../src/render";
import { parseSpec } from "../../src/spec";
import { startWriter } from "./failover-checks";
import { startSentinelClient } from "./sentinel-client";
import { processesUnder } from "./leaks";

// The preStop and probe scripts, run by bash against a real cluster on 127.0.8.11-13, with the password given
// through REDIS_HA_SECRETS_DIR as `redis-ha local` gives them (ACL mode: the scripts log in as admin and sentinel).
jest.setTimeout(120_000);

const config = parseSpec({ auth: { secrets: { source: "directory", path: "/etc/redis-ha/secret" } } });
const addresses = localAddresses(3, "127.0.8.11");
const root = fs.mkdtempSync(path.join(os.tmpdir(), "prestop-test-"));
const dir = path.join(root, "cluster");
let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await LocalCluster.up(config, { dir, firstAddress: "127.0.8.11" });
});

afterAll(async () => {
  if (cluster) await cluster.down();
  expect(processesUnder(dir)).toEqual([]);
  fs.rmSync(root, { recursive: true, force: true });
});

function script(name: string, text: string): string {
  const file = path.join(root, name);
  fs.writeFileSync(file, text, { mode: 0o700 });
  return file;
}
const env = (secretsDir = path.join(dir, "secrets")) => ({ PATH: process.env.PATH, REDIS_HA_SECRETS_DIR: secretsDir });
const probe = (index: number, kind: string, secretsDir?: string) =>
  spawnSync("bash", [script(`probe-${index}`, renderProbeScript(config, { addresses }, index)), kind], {
    encoding: "utf8",
    env: env(secretsDir),
  });

describe("probe", () => {
  test.each(["live", "ready", "sentinel"])("%s passes on a healthy node", (kind) => {
    for (const index of [0, 1]) {
      const result = probe(index, kind);
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
    }
  });

  test("fails with the wrong password, and never prints a password", () => {
    const wrong = path.join(root, "wrong-secrets");
    fs.mkdirSync(wrong, { recursive: true });
    for (const key of ["admin-password", "sentinel-password"]) fs.writeFileSync(path.join(wrong, key), "not-the-password");
    const result = probe(0, "live", wrong);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe("redis-ha-probe: redis at 127.0.8.11:6379 does not answer PING\n");
    for (const key of ["admin-password", "sentinel-password", "app-password"]) {
      expect(`${result.stdout}${result.stderr}`).not.toContain(cluster.secret(key));
    }
  });
});

describe("preStop", () => {
  const run = (index: number) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn("bash", [script(`prestop-${index}`, renderPreStopScript(config, { addresses }, index))], { env: env() });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });

  test("on a replica, does nothing", async () => {
    const result = await run(1);
    expect(result).toEqual({ status: 0, stdout: "redis-ha-prestop: not the master: nothing to do\n", stderr: "" });
    expect((await cluster.status()).master).toBe("127.0.8.11:6379");
  });

  test("on the master, hands over to a replica without losing an acknowledged write", async () => {
    const password = cluster.credentials("app");
    // A client that writes without pause, each write confirmed by a replica (WAIT 1), following the sentinels; and
    // ioredis in sentinel mode with its defaults, as an application would use it.
    const writer = startWriter(cluster, "w");
    const application = startSentinelClient(cluster, "ioredis");
    await new Promise((resolve) => setTimeout(resolve, 500));

    const result = await run(0);
    const done = Date.now();
    for (const until = done + 10_000; !application.wroteSince(done) && Date.now() < until; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const { acknowledged, longestWaitMs } = await writer.stop();
    const seen = await application.stop();
    // The script closed the connections to the old master: ioredis found the new one, and saw no READONLY.
    expect(application.wroteSince(done)).toBe(true);
    expect([...seen.errors.keys()].filter((e) => e.startsWith("READONLY"))).toEqual([]);

    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    // The script lifted the pause only once every sentinel named the new master: ask each.
    const named = await Promise.all(
      ["127.0.8.11", "127.0.8.12", "127.0.8.13"].map((sentinel) =>
        withClient(sentinel, config.sentinel.port, password, async (c) =>
          ((await c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")) as string[])[0],
        ),
      ),
    );
    const master = named[0];
    expect(new Set(named).size).toBe(1);
    expect(master).not.toBe("127.0.8.11");
    expect(result.stdout).toBe(`redis-ha-prestop: ${master} is master now; this node is a replica\n`);
    expect(acknowledged.size).toBeGreaterThan(10);
    const values = await withClient(master, 6379, password, (c) => c.mget(...acknowledged.keys()));
    expect(values).toEqual([...acknowledged.values()]);
    const status = await cluster.waitHealthy(60_000);
    expect(status.nodes[0].redis).toMatchObject({ role: "slave", master: `${master}:6379` });
    // Measured, not asserted: how long one write waited at most while the master was handed over.
    console.log(`preStop hand-over: ${acknowledged.size} acknowledged writes, none lost; longest write ${longestWaitMs} ms`);
  });
});
