import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalCluster } from "../../src/local";
import { processesUnder } from "./leaks";

// `redis-ha local up|status|down` as a newcomer runs it, on 127.0.2.11-13.
jest.setTimeout(120_000);

const root = fs.mkdtempSync(path.join(os.tmpdir(), "cli-test-"));
const dir = path.join(root, "cluster");
const tsx = path.join(__dirname, "..", "..", "node_modules", ".bin", "tsx");
const cli = path.join(__dirname, "..", "..", "src", "cli", "main.ts");

/** Runs the CLI; TMPDIR keeps its "last cluster" pointer inside this test's directory. */
const redisHa = (...args: string[]) =>
  spawnSync(tsx, [cli, ...args], { encoding: "utf8", env: { ...process.env, TMPDIR: root }, timeout: 110_000 });

afterAll(async () => {
  if (fs.existsSync(path.join(dir, "cluster.json"))) await LocalCluster.open(dir).down();
  fs.rmSync(root, { recursive: true, force: true });
});

test("up boots a healthy cluster and prints how to connect, without the password", () => {
  const up = redisHa("local", "up", "--dir", dir, "--first-address", "127.0.2.11");
  expect(up.stderr).toBe("");
  expect(up.status).toBe(0);
  expect(up.stdout).toContain("Healthy.");
  expect(up.stdout).toContain(
    'SPOKE_REDIS_URL="redis://mymaster@127.0.2.11:26379,127.0.2.12:26379,127.0.2.13:26379/master/mymaster"',
  );
  expect(up.stdout).toContain(
    `REDISCLI_AUTH="$(cat ${dir}/secrets/admin-password)" redis-cli --user admin -h 127.0.2.11 -p 6379 INFO replication`,
  );
  for (const key of ["app-password", "admin-password", "replication-password", "sentinel-password"]) {
    const password = fs.readFileSync(path.join(dir, "secrets", key), "utf8");
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect(up.stdout).not.toContain(password);
  }
  expect(LocalCluster.open(dir).runningPids()).toHaveLength(6);
});

test("status reports roles, links, the sentinels' view and CKQUORUM; --json for machines", () => {
  const text = redisHa("local", "status", "--dir", dir);
  expect(text.status).toBe(0);
  expect(text.stdout).toContain("node 0 127.0.2.11: redis master, 2 replicas online");
  expect(text.stdout).toContain("node 1 127.0.2.12: redis replica of 127.0.2.11:6379, link up");
  expect(text.stdout).toContain("2 other sentinels, CKQUORUM OK 3 usable Sentinels");

  const json = redisHa("local", "status", "--json"); // no --dir: the last `up`
  expect(json.status).toBe(0);
  expect(JSON.parse(json.stdout)).toMatchObject({ healthy: true, master: "127.0.2.11:6379", problems: [] });
});

test("up refuses a directory that already holds a cluster", () => {
  const again = redisHa("local", "up", "--dir", dir, "--first-address", "127.0.2.11");
  expect(again.status).toBe(1);
  expect(again.stderr).toBe(
    `redis-ha: ${dir} already holds a local cluster: stop it with \`redis-ha local down --dir ${dir}\` and remove the directory, or choose another --dir\n`,
  );
});

test("down stops exactly the processes up started, by PID", () => {
  const pids = LocalCluster.open(dir).runningPids();
  const down = redisHa("local", "down", "--dir", dir);
  expect(down.status).toBe(0);
  expect(down.stdout).toMatch(/^Stopped 6 processes \(PIDs [\d, ]+\); files kept in /);
  const reported = /\(PIDs ([\d, ]+)\)/.exec(down.stdout)?.[1].split(", ").map(Number);
  expect(reported?.sort()).toEqual([...pids].sort());
  expect(LocalCluster.open(dir).runningPids()).toEqual([]);
  expect(processesUnder(dir)).toEqual([]);
  const status = redisHa("local", "status", "--dir", dir);
  expect(status.status).toBe(1);
  expect(status.stdout).toContain("Not healthy:");
});

test("a bad spec file is refused with every problem before anything starts", () => {
  const spec = path.join(root, "bad.yaml");
  // No auth: a local cluster makes its own password.
  fs.writeFileSync(spec, "topology:\n  nodeCount: 4\nsentinel:\n  quorum: 0\n");
  const other = path.join(root, "never-created");
  const up = redisHa("local", "up", "--dir", other, "--spec", spec);
  expect(up.status).toBe(1);
  expect(up.stderr).toBe(
    "Invalid Redis Sentinel spec (2 problems):\n" +
      "  - topology.nodeCount = 4: must be odd, so that the sentinels always form a majority. Use 3, 5 or 7\n" +
      "  - sentinel.quorum = 0: must be at least 1: a majority of the sentinels\n",
  );
  expect(fs.existsSync(other)).toBe(false);
});

test.each([
  ["an empty spec file", "", 2, "holds no spec: write its fields"],
  ["a YAML list", "- nodeCount: 3\n", 1, '  - (spec) = [{"nodeCount":3}]: must be an object, such as'],
])("%s as the spec is refused with a message that says so, nothing created", (_, text, status, message) => {
  const spec = path.join(root, "odd.yaml");
  fs.writeFileSync(spec, text);
  const other = path.join(root, "never-created");
  const up = redisHa("local", "up", "--dir", other, "--spec", spec);
  expect(up.stderr).toContain(message);
  expect(up.stderr).not.toContain("TypeError");
  expect(up.status).toBe(status);
  expect(fs.existsSync(other)).toBe(false);
});

test("an unknown action prints the usage and exits 2", () => {
  const result = redisHa("local", "sideways");
  expect(result.status).toBe(2);
  expect(result.stderr).toContain("redis-ha: unknown action: local sideways");
  expect(result.stderr).toContain("Usage:");
});
