import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runBootScript, stageNode } from "../../src/local/boot";
import { NODE_FILES, renderBootScript, renderCluster, renderPreStopScript, renderProbeScript } from "../../src/render";
import { parseSpec } from "../../src/spec";

const envSpec = parseSpec({ auth: { password: { source: "env", name: "REDIS_PASSWORD" } } });
// Loopback addresses where nothing listens: the script's question to the sentinels gets no answer.
const addresses = ["127.0.9.11", "127.0.9.12", "127.0.9.13"];

describe("shellcheck", () => {
  test.each([
    ["an environment variable", envSpec],
    ["a file", parseSpec({ auth: { password: { source: "file", path: "/run/secrets/redis-password" } } })],
    [
      "an SSM parameter",
      parseSpec({ auth: { password: { source: "ssm-parameter", name: "/redis-sentinel/dev/password", region: "eu-west-1" } } }),
    ],
  ])("passes on the boot script that reads the password from %s, on the rendered master and on a replica", (_, config) => {
    for (const index of [0, 1]) {
      const result = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "-"], {
        input: renderBootScript(config, { addresses }, index),
        encoding: "utf8",
      });
      expect(result.error).toBeUndefined(); // shellcheck is installed (.ci/run installs it)
      expect(result.stdout).toBe("");
      expect(result.status).toBe(0);
    }
  });

  test.each([
    ["preStop", renderPreStopScript],
    ["probe", renderProbeScript],
  ])("passes on the %s script", (_, render) => {
    const config = parseSpec({ auth: { password: { source: "file", path: "/etc/redis-ha/secret/password" } } });
    const result = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "-"], {
      input: render(config, { addresses }, 0),
      encoding: "utf8",
    });
    expect(result.stdout).toBe("");
    expect(result.status).toBe(0);
  });

  test("catches a broken script, so the test above can fail", () => {
    const result = spawnSync("shellcheck", ["--shell=bash", "-"], { input: "#!/bin/bash\necho $1\n", encoding: "utf8" });
    expect(result.status).not.toBe(0);
  });
});

const tempDirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
};
afterAll(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** Stages a node's rendered files and returns a runner of its boot script, as `redis-ha local` runs it. */
function boot(env: Record<string, string>, config = envSpec) {
  const root = tempDir("boot-test-");
  const [node] = renderCluster(config, { addresses });
  const staged = stageNode(node, path.join(root, "stage"), path.join(root, "home"));
  const run = (extra: Record<string, string> = {}) => runBootScript(staged, { ...env, ...extra });
  return { home: staged.home, stage: staged.stage, node, run };
}

const mode = (file: string) => (fs.statSync(file).mode & 0o777).toString(8);

describe("boot script, run by bash", () => {
  const tricky = 'pa ss\\w"rd$x`y';

  test("writes both secret files, mode 0600, with the password quoted for Redis", () => {
    const { home, run } = boot({ REDIS_PASSWORD: tricky });
    const result = run();
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const quoted = '"pa ss\\\\w\\"rd$x`y"';
    expect(fs.readFileSync(path.join(home, NODE_FILES.redisAuth), "utf8")).toBe(
      `requirepass ${quoted}\nmasterauth ${quoted}\n`,
    );
    expect(fs.readFileSync(path.join(home, NODE_FILES.sentinelAuth), "utf8")).toBe(
      `requirepass ${quoted}\nsentinel auth-pass mymaster ${quoted}\n`,
    );
    for (const f of [NODE_FILES.redisAuth, NODE_FILES.sentinelAuth, NODE_FILES.redisConf, NODE_FILES.sentinelConf]) {
      expect(mode(path.join(home, f))).toBe("600");
    }
    expect(fs.statSync(path.join(home, NODE_FILES.dataDir)).isDirectory()).toBe(true);
    expect(result.stdout).not.toContain("pa ss");
  });

  test("installs the rendered configs on first boot and keeps rewritten ones later", () => {
    const { home, node, run } = boot({ REDIS_PASSWORD: "first" });
    expect(run().status).toBe(0);
    expect(fs.readFileSync(path.join(home, NODE_FILES.redisConf), "utf8")).toBe(node.redisConf);
    const rewritten = node.redisConf + "replicaof 127.0.9.12 6379\n";
    fs.writeFileSync(path.join(home, NODE_FILES.redisConf), rewritten);
    expect(run({ REDIS_PASSWORD: "second" }).status).toBe(0);
    expect(fs.readFileSync(path.join(home, NODE_FILES.redisConf), "utf8")).toBe(rewritten);
    expect(fs.readFileSync(path.join(home, NODE_FILES.redisAuth), "utf8")).toContain('requirepass "second"');
  });

  test("reads the password from a file when auth.password points to one", () => {
    const secretDir = tempDir("boot-secret-");
    const secret = path.join(secretDir, "pw");
    fs.writeFileSync(secret, "from-a-file\n", { mode: 0o600 });
    const { home, run } = boot({}, parseSpec({ auth: { password: { source: "file", path: secret } } }));
    expect(run().status).toBe(0);
    expect(fs.readFileSync(path.join(home, NODE_FILES.redisAuth), "utf8")).toBe(
      'requirepass "from-a-file"\nmasterauth "from-a-file"\n',
    );
  });

  test("REDIS_HA_PASSWORD_FILE, as redis-ha local sets it, wins over auth.password", () => {
    const secret = path.join(tempDir("boot-secret-"), "pw");
    fs.writeFileSync(secret, "from-the-override", { mode: 0o600 });
    const { home, run } = boot({ REDIS_PASSWORD: "from-auth-password" });
    expect(run({ REDIS_HA_PASSWORD_FILE: secret }).status).toBe(0);
    expect(fs.readFileSync(path.join(home, NODE_FILES.redisAuth), "utf8")).toContain('requirepass "from-the-override"');
  });

  test("with no sentinel answering, the rendered topology stands and the configs are installed unchanged", () => {
    const { home, node, run } = boot({ REDIS_PASSWORD: "x" });
    const result = run();
    expect(result.stdout).toBe("redis-ha-boot: no sentinel answered; the rendered topology stands (master 127.0.9.11)\n");
    expect(fs.readFileSync(path.join(home, NODE_FILES.sentinelConf), "utf8")).toBe(node.sentinelConf);
  });

  test.each([
    ["the variable is unset", {}, "redis-ha-boot: the environment variable REDIS_PASSWORD is empty or unset (auth.password)\n"],
    [
      "the password holds a newline",
      { REDIS_PASSWORD: "a\nb" },
      "redis-ha-boot: the password holds a control character (a newline?): a Redis config file cannot carry it\n",
    ],
    ["the start mode is unknown", { REDIS_PASSWORD: "x", REDIS_HA_START: "upstart" }, "redis-ha-boot: REDIS_HA_START must be systemd or none, not upstart\n"],
  ])("fails with a clear message when %s, writing no secret file", (_, env, message) => {
    const { home, run } = boot({});
    const result = run(env);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(message);
    if (!("REDIS_HA_START" in env)) expect(fs.existsSync(path.join(home, NODE_FILES.redisAuth))).toBe(false);
  });

  test("REDIS_HA_PROCESSES=sentinel installs only sentinel.conf, for a sentinel in a pod of its own", () => {
    const { home, run } = boot({ REDIS_PASSWORD: "x", REDIS_HA_PROCESSES: "sentinel" });
    expect(run().status).toBe(0);
    expect(fs.existsSync(path.join(home, NODE_FILES.sentinelConf))).toBe(true);
    expect(fs.existsSync(path.join(home, NODE_FILES.redisConf))).toBe(false);
    const bad = run({ REDIS_HA_PROCESSES: "all" });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe("redis-ha-boot: REDIS_HA_PROCESSES must be both, redis or sentinel, not all\n");
  });

  test("fails when the rendered configs were not placed", () => {
    const { stage, run } = boot({ REDIS_PASSWORD: "x" });
    fs.rmSync(path.join(stage, NODE_FILES.sentinelConf));
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`redis-ha-boot: missing ${stage}/sentinel.conf\n`);
  });
});
