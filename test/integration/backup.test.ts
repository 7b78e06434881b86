import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalCluster, localAddresses, restoreFromRdb, withClient } from "../../src/local";
import { parseInfo } from "../../src/local/client";
import { renderBackupScript } from "../../src/render";
import { parseSpec } from "../../src/spec";
import { processesUnder } from "./leaks";

// The rendered backup script, run by bash against a real cluster on 127.0.13.11-13 (password through
// REDIS_HA_SECRETS_DIR, as `redis-ha local` gives them), into a local directory; the snapshot is then restored
// into a second, fresh cluster on 127.0.13.21-23. Every process is stopped by its PID in afterAll.
jest.setTimeout(180_000);

const config = parseSpec({ auth: { secrets: { source: "directory", path: "/etc/redis-ha/secret" } } });
const addresses = localAddresses(3, "127.0.13.11");
const root = fs.mkdtempSync(path.join(os.tmpdir(), "backup-test-"));
const backups = path.join(root, "backups");
const dirs = { source: path.join(root, "source"), restored: path.join(root, "restored") };
let source: LocalCluster | undefined;
let restored: LocalCluster | undefined;

beforeAll(async () => {
  source = await LocalCluster.up(config, { dir: dirs.source, firstAddress: "127.0.13.11" });
});

afterAll(async () => {
  for (const cluster of [source, restored]) if (cluster) await cluster.down();
  expect(processesUnder(root)).toEqual([]);
  fs.rmSync(root, { recursive: true, force: true });
});

const KEYS = 2000;
const backup = (index: number) => {
  const script = path.join(root, `backup-${index}.sh`);
  fs.writeFileSync(script, renderBackupScript(config, { addresses }, index, { target: { directory: backups } }), { mode: 0o700 });
  return spawnSync("bash", [script], {
    encoding: "utf8",
    timeout: 60_000,
    env: { PATH: process.env.PATH, REDIS_HA_SECRETS_DIR: path.join(dirs.source, "secrets") },
  });
};

let snapshot = "";

test("on a replica: BGSAVE, then a checked copy in <dir>/<master-name>/<node>/<UTC time>.rdb", async () => {
  const password = source!.credentials("admin");
  await withClient("127.0.13.11", 6379, password, async (c) => {
    const pipeline = c.pipeline();
    for (let i = 0; i < KEYS; i++) pipeline.set(`key:${i}`, `value-${i}`);
    pipeline.hset("hash", { a: "1", b: "2" });
    pipeline.rpush("list", "x", "y", "z");
    await pipeline.exec();
    expect(Number(await c.call("WAIT", "2", "5000"))).toBe(2);
  });
  const lastsave = await withClient("127.0.13.12", 6379, password, async (c) => Number(await c.lastsave()));

  const result = backup(1);
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  const lines = result.stdout.trim().split("\n");
  snapshot = lines[lines.length - 1].replace(/^redis-ha-backup: /, "");
  expect(snapshot).toMatch(new RegExp(`^${backups}/mymaster/127\\.0\\.13\\.12/\\d{8}T\\d{6}Z\\.rdb$`));
  expect(fs.statSync(snapshot).mode & 0o777).toBe(0o600);
  expect(spawnSync("redis-check-rdb", [snapshot]).status).toBe(0);
  // A snapshot taken by this run: LASTSAVE moved.
  expect(await withClient("127.0.13.12", 6379, password, async (c) => Number(await c.lastsave()))).toBeGreaterThan(lastsave);
  // The snapshot was held by a hard link in the data directory, removed once copied.
  const dataDir = await withClient("127.0.13.12", 6379, password, async (c) => ((await c.config("GET", "dir")) as string[])[1]);
  expect(fs.readdirSync(dataDir).filter((f) => f.startsWith(".redis-ha-backup"))).toEqual([]);
  expect(fs.statSync(path.join(dataDir, "dump.rdb")).nlink).toBe(1);
  // Written after the backup: must not come back with the restore.
  await withClient("127.0.13.11", 6379, password, (c) => c.set("after-backup", "1"));
});

test("on the master: skips, so the fork falls on a replica", () => {
  const result = backup(0);
  expect(result).toMatchObject({ status: 0, stderr: "", stdout: "redis-ha-backup: this node is the master: a replica takes the backup\n" });
  expect(fs.readdirSync(path.join(backups, "mymaster"))).toEqual(["127.0.13.12"]);
});

test("fails with a wrong password, and never prints one", () => {
  const wrong = path.join(root, "wrong-secrets");
  fs.mkdirSync(wrong, { recursive: true });
  for (const key of ["admin-password", "sentinel-password"]) fs.writeFileSync(path.join(wrong, key), "not-the-password");
  const script = path.join(root, "backup-1.sh");
  const result = spawnSync("bash", [script], { encoding: "utf8", env: { PATH: process.env.PATH, REDIS_HA_SECRETS_DIR: wrong } });
  expect(result.status).toBe(1);
  expect(result.stderr).toBe("redis-ha-backup: redis at 127.0.13.12:6379 does not answer PING\n");
  expect(`${result.stdout}${result.stderr}`).not.toContain(source!.secret("admin-password"));
});

test("restored into a fresh cluster, the keys are back on the master and on every replica, with AOF on again", async () => {
  expect(snapshot).not.toBe("");
  restored = await LocalCluster.up(config, { dir: dirs.restored, firstAddress: "127.0.13.21" });
  const password = restored.credentials("admin");
  await withClient("127.0.13.21", 6379, password, (c) => c.set("only-before-restore", "1"));

  const master = await restoreFromRdb(restored, snapshot);
  expect(master).toBe("127.0.13.21");
  for (const node of ["127.0.13.21", "127.0.13.22", "127.0.13.23"]) {
    await withClient(node, 6379, password, async (c) => {
      expect(await c.dbsize()).toBe(KEYS + 2);
      expect(await c.mget("key:0", "key:1999", "after-backup", "only-before-restore")).toEqual(["value-0", "value-1999", null, null]);
      expect(await c.hgetall("hash")).toEqual({ a: "1", b: "2" });
      expect(await c.lrange("list", 0, -1)).toEqual(["x", "y", "z"]);
    });
  }
  // The master writes its AOF again, and its config says so: a restart keeps the restored data.
  const info = parseInfo(await withClient("127.0.13.21", 6379, password, (c) => c.info("persistence")));
  expect(info).toMatchObject({ aof_enabled: "1", aof_last_bgrewrite_status: "ok" });
  const conf = fs.readFileSync(path.join(dirs.restored, "node-0", "redis.conf"), "utf8");
  expect(conf.split("\n")).toContain("appendonly yes");
  expect(conf.split("\n")).not.toContain("appendonly no");
  // And it takes writes that reach the replicas.
  await withClient("127.0.13.21", 6379, password, async (c) => {
    await c.set("after-restore", "1");
    expect(Number(await c.call("WAIT", "2", "5000"))).toBe(2);
  });
});
