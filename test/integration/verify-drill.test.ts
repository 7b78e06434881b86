import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { LocalCluster } from "../../src/local";
import type { DrillResult, VerifyResult } from "../../src/ops";
import { parseSpec } from "../../src/spec";
import { processesUnder } from "./leaks";

// `redis-ha verify` and `redis-ha drill` run through the CLI, as an operator runs them after a deploy, against a
// real cluster on 127.0.14.11-13. 127.0.15.11 is a port that accepts and never answers; 127.0.15.12 refuses.
// Credentials reach the CLI through the environment only. Every process is stopped by its PID in afterAll.
jest.setTimeout(180_000);

const root = fs.mkdtempSync(path.join(os.tmpdir(), "verify-drill-test-"));
const dir = path.join(root, "cluster");
const tsx = path.join(__dirname, "..", "..", "node_modules", ".bin", "tsx");
const cli = path.join(__dirname, "..", "..", "src", "cli", "main.ts");
const SENTINELS = "127.0.14.11:26379,127.0.14.12:26379,127.0.14.13:26379";

let cluster: LocalCluster | undefined;
let password = "";
// ACL mode: the operator logs in as admin to Redis and as sentinel to the sentinels.
let creds: Record<string, string> = {};
const silent = net.createServer(() => undefined); // accepts connections, never answers

beforeAll(async () => {
  await new Promise<void>((resolve) => silent.listen(26379, "127.0.15.11", resolve));
  cluster = await LocalCluster.up(parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } }), {
    dir,
    firstAddress: "127.0.14.11",
  });
  password = cluster.secret("admin-password");
  creds = {
    REDIS_USERNAME: "admin",
    REDIS_PASSWORD: password,
    SENTINEL_USERNAME: "sentinel",
    SENTINEL_PASSWORD: cluster.secret("sentinel-password"),
  };
});

afterAll(async () => {
  silent.close();
  if (fs.existsSync(path.join(dir, "cluster.json"))) {
    const local = LocalCluster.open(dir);
    await local.down();
    expect(local.runningPids()).toEqual([]);
    expect(processesUnder(dir)).toEqual([]);
  }
  fs.rmSync(root, { recursive: true, force: true });
});

/** Runs the CLI with credentials in the environment only; no credential variable leaks in from the caller. */
function redisHa(env: Record<string, string>, ...args: string[]) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(REDIS|SENTINEL)_(USERNAME|PASSWORD)$/.test(k)));
  const started = Date.now();
  const run = spawnSync(tsx, [cli, ...args], { encoding: "utf8", env: { ...base, ...env }, timeout: 150_000 });
  const output = run.stdout + run.stderr;
  // No run prints a password, right or wrong.
  if (password) expect(output).not.toContain(password);
  for (const [name, value] of Object.entries(env)) if (name.endsWith("PASSWORD")) expect(output).not.toContain(value);
  return { ...run, ms: Date.now() - started };
}

const verify = (...extra: string[]) => redisHa(creds, "verify", "--sentinels", SENTINELS, ...extra);
const verifyJson = (...extra: string[]) => {
  const run = verify("--json", ...extra);
  return { ...run, result: JSON.parse(run.stdout) as VerifyResult };
};
const drillJson = (...extra: string[]) => {
  const run = redisHa(creds, "drill", "--sentinels", SENTINELS, "--json", ...extra);
  return { ...run, result: JSON.parse(run.stdout) as DrillResult };
};

test("verify passes on a healthy cluster: one line per check, exit 0, and a JSON report", () => {
  const text = verify();
  expect(text.stderr).toBe("");
  expect(text.status).toBe(0);
  expect(text.stdout).toContain("ok    sentinel 127.0.14.11:26379: names master 127.0.14.11:6379, knows 2 replicas and 2 other sentinels, quorum 2\n");
  expect(text.stdout).toContain("ok    sentinels-agree: 3 of 3 name 127.0.14.11:6379\n");
  expect(text.stdout).toContain("ok    ckquorum: 3 of 3 answering sentinels: OK 3 usable Sentinels.");
  expect(text.stdout).toContain("ok    master 127.0.14.11:6379: role master, 2 connected replicas");
  expect(text.stdout).toContain("ok    replicas-online: 2 of 2 expected (the most any sentinel knows) online\n");
  expect(text.stdout).toMatch(/ok {4}replication-lag 127\.0\.14\.12:6379: at the master's offset \d+ within \d+ ms \(bound 1000 ms/);
  expect(text.stdout).toContain("ok    master-writable 127.0.14.11:6379: takes writes (the write probe deletes a key no one writes)\n");
  expect(text.stdout).toMatch(/\nOK: all 10 checks passed in \d+ ms\n$/);

  const { status, result } = verifyJson();
  expect(status).toBe(0);
  expect(result).toMatchObject({ ok: true, failed: [], master: "127.0.14.11:6379", replicasExpected: 2, replicasOnline: 2, maxLagSeconds: 1 });
  expect(result.checks.map((c) => c.id)).toEqual([
    "sentinel",
    "sentinel",
    "sentinel",
    "sentinels-agree",
    "ckquorum",
    "master",
    "master-writable",
    "replicas-online",
    "replication-lag",
    "replication-lag",
  ]);
  for (const r of result.replicas) expect(r.caughtUpMs).toBeLessThan(1000);
});

test("--replicas asks for more replicas than there are: the replicas-online check fails", () => {
  const { status, result } = verifyJson("--replicas", "3");
  expect(status).toBe(1);
  expect(result.failed).toEqual(["replicas-online"]);
  expect(result.checks.find((c) => c.id === "replicas-online")?.summary).toBe("2 of 3 expected (--replicas) online");
});

test("a master that refuses writes (NOREPLICAS) fails master-writable in verify and in the local status", async () => {
  // More replicas demanded than exist: the master refuses every write, as a master whose replicas stalled does.
  const admin = cluster!.credentials("admin");
  const redisCli = (...args: string[]) =>
    spawnSync("redis-cli", ["-h", "127.0.14.11", "-p", "6379", "--user", admin.username!, "--no-auth-warning", ...args], {
      encoding: "utf8",
      env: { ...process.env, REDISCLI_AUTH: admin.password },
    }).stdout.trim();
  expect(redisCli("CONFIG", "SET", "min-replicas-to-write", "3")).toBe("OK");
  try {
    const { status, result } = verifyJson();
    expect(status).toBe(1);
    expect(result.failed).toEqual(["master-writable 127.0.14.11:6379"]);
    expect(result.checks.find((c) => c.id === "master-writable")?.summary).toBe(
      "refuses writes: NOREPLICAS Not enough good replicas to write.",
    );
    expect(verify().stdout).toContain("FAIL  master-writable 127.0.14.11:6379: refuses writes: NOREPLICAS Not enough good replicas to write.\n");
    const local = await cluster!.status();
    expect(local.healthy).toBe(false);
    expect(local.problems).toEqual(["node 0 (127.0.14.11): master refuses writes: NOREPLICAS Not enough good replicas to write."]);
  } finally {
    redisCli("CONFIG", "SET", "min-replicas-to-write", "1");
  }
  expect((await cluster!.status()).healthy).toBe(true);
});

test("a stopped replica fails replicas-online, named, and nothing else", async () => {
  await cluster!.stop("redis", 2);
  try {
    const { status, stdout, result } = verifyJson();
    expect(status).toBe(1);
    expect(result.failed).toEqual(["replicas-online"]);
    expect(result.replicasOnline).toBe(1);
    expect(result.replicasExpected).toBe(2);
    expect(stdout).not.toContain("FAIL  sentinels-agree");
  } finally {
    cluster!.start("redis", 2);
    await cluster!.waitHealthy(60_000);
  }
  expect(verify().status).toBe(0);
});

test("a wrong password fails fast with WRONGPASS on every sentinel, and is printed nowhere", () => {
  const run = redisHa({ REDIS_USERNAME: "admin", REDIS_PASSWORD: "not-the-password-42", SENTINEL_USERNAME: "sentinel" }, "verify", "--sentinels", SENTINELS);
  expect(run.status).toBe(1);
  expect(run.ms).toBeLessThan(15_000);
  expect(run.stdout).toContain("FAIL  sentinel 127.0.14.11:26379: cannot ask it: WRONGPASS invalid username-password pair or user is disabled.\n");
  expect(run.stdout).toContain("FAIL  master: not checked: no sentinel names a master\n");
  // A right Redis password with a wrong SENTINEL_PASSWORD: the sentinels refuse; the default is only a default.
  const sentinelWrong = redisHa({ ...creds, SENTINEL_PASSWORD: "not-the-sentinel-password" }, "verify", "--sentinels", SENTINELS);
  expect(sentinelWrong.status).toBe(1);
  expect(sentinelWrong.stdout).toContain("FAIL  sentinel 127.0.14.12:26379: cannot ask it: WRONGPASS");
});

test("a sentinel that never answers and one that refuses are FAIL lines within the timeout, not a hang", () => {
  const run = redisHa(
    creds,
    "verify",
    "--sentinels",
    `${SENTINELS},127.0.15.11:26379,127.0.15.12`,
    "--json",
  );
  expect(run.status).toBe(1);
  expect(run.ms).toBeLessThan(15_000);
  const result = JSON.parse(run.stdout) as VerifyResult;
  expect(result.failed).toEqual(["sentinel 127.0.15.11:26379", "sentinel 127.0.15.12:26379", "sentinels-agree"]);
  expect(result.checks.find((c) => c.target === "127.0.15.12:26379")?.summary).toBe("cannot ask it: connect ECONNREFUSED 127.0.15.12:26379");
  expect(result.checks.find((c) => c.id === "sentinels-agree")?.summary).toBe("3 of 5 name 127.0.14.11:6379");
  // The master and replicas are still checked through the sentinels that answer.
  expect(result.replicasOnline).toBe(2);
});

test("usage errors: no --sentinels, a bad endpoint, a bad number", () => {
  expect(redisHa({}, "verify").stderr).toContain("redis-ha: --sentinels is required");
  const bad = redisHa({}, "verify", "--sentinels", "127.0.14.11:99999,:1");
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain('redis-ha: --sentinels: not HOST:PORT: "127.0.14.11:99999", ":1".');
  expect(redisHa({}, "verify", "--sentinels", SENTINELS, "--max-lag", "soon").stderr).toContain("redis-ha: --max-lag soon: must be a number");
});

describe("drill", () => {
  const expectHealthyAfter = (result: DrillResult) => {
    const after = verifyJson();
    expect(after.result.failed).toEqual([]);
    expect(after.result.master).toBe(result.newMaster);
  };

  test("planned: SENTINEL FAILOVER with writes paused gives a new master and loses no acknowledged write", () => {
    const before = verifyJson().result.master;
    const { status, stderr, result } = drillJson();
    expect(result.problems).toEqual([]);
    expect(status).toBe(0);
    expect(result.trigger).toBe("paused-sentinel-failover");
    expect(result.oldMaster).toBe(before);
    expect(result.newMaster).toMatch(/^127\.0\.14\.1[123]:6379$/);
    expect(result.newMaster).not.toBe(before);
    expect(result.writes.acknowledged).toBeGreaterThan(100);
    expect(result.writes.lost).toBe(0);
    expect(result.writableMs).toBeLessThan(10_000);
    const events = result.events.map((e) => e.event);
    expect(events).toContain("+switch-master");
    expect(events).toContain("+failover-end");
    // Progress and the timeline go to stderr with --json.
    expect(stderr).toMatch(/\n +\+\d+ {2}127\.0\.14\.1[123]:26379 {2}\+switch-master mymaster /);
    expectHealthyAfter(result);
  });

  test("planned without the pause: the drill catches the acknowledged writes Sentinel alone loses, and exits 1", () => {
    const { status, result } = drillJson("--no-pause");
    expect(result.trigger).toBe("sentinel-failover");
    expect(result.newMaster).toBeDefined();
    expect(result.newMaster).not.toBe(result.oldMaster);
    // Measured before this test was written: 1792 of 6186 lost. The old master keeps taking writes after the
    // promotion; the replica that acknowledged them resynchronises from the new master and drops them.
    expect(result.writes.lost).toBeGreaterThan(0);
    expect(result.problems).toContainEqual(expect.stringMatching(/^\d+ of \d+ acknowledged writes lost, such as redis-ha-drill:/));
    expect(status).toBe(1);
    expect(result.events.map((e) => e.event)).toContain("+switch-master");
    expectHealthyAfter(result);
  });

  test("unplanned: SIGKILL of the local master, a new master with every acknowledged write, the killed one restarted", async () => {
    const before = verifyJson().result.master!;
    const run = redisHa(creds, "drill", "--sentinels", SENTINELS, "--kill-local", dir, "--json");
    const report = JSON.parse(run.stdout) as DrillResult;
    expect(run.status).toBe(0);
    expect(report).toMatchObject({ ok: true, trigger: "kill", oldMaster: before, problems: [], writes: { lost: 0 } });
    expect(report.newMaster).toMatch(/^127\.0\.14\.1[123]:6379$/);
    expect(report.newMaster).not.toBe(before);
    expect(report.writes.acknowledged).toBeGreaterThan(100);
    expect(report.restarted).toBe(`restarted node ${Number(before.split(":")[0].split(".")[3]) - 11}'s redis-server`);
    // The sentinels' own account, in order: subjectively down, objectively down, switched; the first write the
    // new master took came no earlier than the first switch a sentinel published.
    const first = (event: string) => report.events.find((e) => e.event === event);
    expect(first("+sdown")!.atMs).toBeGreaterThan(0);
    expect(first("+odown")!.atMs).toBeGreaterThanOrEqual(first("+sdown")!.atMs);
    expect(first("+switch-master")!.atMs).toBeGreaterThan(first("+odown")!.atMs);
    expect(report.writableMs).toBeGreaterThanOrEqual(first("+switch-master")!.atMs - 50);
    // The readable report went to stderr: the trigger, the verdict lines, the timeline.
    expect(run.stderr).toContain(`Trigger: SIGKILL of node ${Number(before.split(":")[0].split(".")[3]) - 11}'s redis-server (${before})`);
    expect(run.stderr).toMatch(/ok {4}acknowledged writes lost: 0 of \d+/);
    expect(run.stderr).toMatch(/\n +\+\d+ {2}127\.0\.14\.1[123]:26379 {2}\+odown master mymaster /);
    expect(run.stderr).toContain("\nOK: the drill passed\n");
    // The killed redis-server runs again (all 6 processes), and the cluster is healthy with it as a replica.
    expect(LocalCluster.open(dir).runningPids()).toHaveLength(6);
    expectHealthyAfter(report);
  });
});
