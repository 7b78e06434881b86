import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runBootScript, stageNode } from "../../src/local/boot";
import { startProcess, stopProcess } from "../../src/local/processes";
import { NODE_FILES, renderBootScript, renderCluster, renderPreStopScript, renderProbeScript } from "../../src/render";
import { parseSpec } from "../../src/spec";

// Password mode (ACL off): one password, REDIS_HA_PASSWORD. ACL mode has tests of its own below.
const envSpec = parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } }, acl: { enabled: false } });
const aclSpec = parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } });
const tlsSpec = parseSpec({
  auth: { secrets: { source: "env", prefix: "REDIS_HA_" } },
  tls: { enabled: true, certificates: { source: "ssm-parameters", path: "/redis-sentinel/dev/tls", region: "eu-west-1" } },
});
// Loopback addresses where nothing listens: the script's question to the sentinels gets no answer.
const addresses = ["127.0.9.11", "127.0.9.12", "127.0.9.13"];

describe("shellcheck", () => {
  test.each([
    ["environment variables, ACL off", envSpec],
    ["environment variables, ACL on", aclSpec],
    ["a directory", parseSpec({ auth: { secrets: { source: "directory", path: "/run/secrets/redis-ha" } } })],
    [
      "SSM parameters, with TLS",
      parseSpec({
        auth: { secrets: { source: "ssm-parameters", path: "/redis-sentinel/dev", region: "eu-west-1" } },
        tls: tlsSpec.tls,
      }),
    ],
  ])("passes on the boot script that reads the passwords from %s, on the rendered master and on a replica", (_, config) => {
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
    ["preStop", renderPreStopScript, envSpec],
    ["probe", renderProbeScript, envSpec],
    ["preStop (ACL, TLS)", renderPreStopScript, tlsSpec],
    ["probe (ACL, TLS)", renderProbeScript, tlsSpec],
  ])("passes on the %s script", (_, render, config) => {
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

/**
 * Stages a node's rendered files and returns a runner of its boot script, as `redis-ha local` runs it. Node 1 by
 * default: a replica, which boots alone; the rendered master (node 0) waits for its peers when it is empty.
 */
function boot(env: Record<string, string>, config = envSpec, index = 1) {
  const root = tempDir("boot-test-");
  const node = renderCluster(config, { addresses })[index];
  const staged = stageNode(node, path.join(root, "stage"), path.join(root, "home"));
  const run = (extra: Record<string, string> = {}) => runBootScript(staged, { ...env, ...extra });
  return { home: staged.home, stage: staged.stage, node, run };
}

const mode = (file: string) => (fs.statSync(file).mode & 0o777).toString(8);

describe("boot script, run by bash", () => {
  const tricky = 'pa ss\\w"rd$x`y';

  test("writes both secret files, mode 0600, with the password quoted for Redis", () => {
    const { home, run } = boot({ REDIS_HA_PASSWORD: tricky });
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
    const { home, node, run } = boot({ REDIS_HA_PASSWORD: "first" });
    expect(run().status).toBe(0);
    expect(fs.readFileSync(path.join(home, NODE_FILES.redisConf), "utf8")).toBe(node.redisConf);
    const rewritten = node.redisConf + "replicaof 127.0.9.12 6379\n";
    fs.writeFileSync(path.join(home, NODE_FILES.redisConf), rewritten);
    expect(run({ REDIS_HA_PASSWORD: "second" }).status).toBe(0);
    expect(fs.readFileSync(path.join(home, NODE_FILES.redisConf), "utf8")).toBe(rewritten);
    expect(fs.readFileSync(path.join(home, NODE_FILES.redisAuth), "utf8")).toContain('requirepass "second"');
  });

  test("reads the password from a directory when auth.secrets points to one", () => {
    const secretDir = tempDir("boot-secret-");
    fs.writeFileSync(path.join(secretDir, "password"), "from-a-file\n", { mode: 0o600 });
    const { home, run } = boot({}, parseSpec({ auth: { secrets: { source: "directory", path: secretDir } }, acl: { enabled: false } }));
    expect(run().status).toBe(0);
    expect(fs.readFileSync(path.join(home, NODE_FILES.redisAuth), "utf8")).toBe(
      'requirepass "from-a-file"\nmasterauth "from-a-file"\n',
    );
  });

  test("REDIS_HA_SECRETS_DIR, as redis-ha local sets it, wins over auth.secrets", () => {
    const secretDir = tempDir("boot-secret-");
    fs.writeFileSync(path.join(secretDir, "password"), "from-the-override", { mode: 0o600 });
    const { home, run } = boot({ REDIS_HA_PASSWORD: "from-auth-secrets" });
    expect(run({ REDIS_HA_SECRETS_DIR: secretDir }).status).toBe(0);
    expect(fs.readFileSync(path.join(home, NODE_FILES.redisAuth), "utf8")).toContain('requirepass "from-the-override"');
  });

  test("ACL mode: ACL files with password hashes only, default user off, and the users' credentials included", () => {
    const passwords = { REDIS_HA_APP_PASSWORD: "app pw", REDIS_HA_ADMIN_PASSWORD: "admin-pw", REDIS_HA_REPLICATION_PASSWORD: 'rep"pw', REDIS_HA_SENTINEL_PASSWORD: "sen-pw" };
    const { home, run } = boot(passwords, aclSpec);
    const result = run();
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const sha = (text: string) => createHash("sha256").update(text).digest("hex");
    const users = fs.readFileSync(path.join(home, NODE_FILES.redisAcl), "utf8").split("\n");
    expect(users).toEqual([
      "user default off",
      `user admin on #${sha("admin-pw")} ~* &* +@all`,
      `user replication on #${sha('rep"pw')} resetchannels -@all +psync +replconf +ping`,
      expect.stringMatching(new RegExp(`^user sentinel on #${sha("sen-pw")} resetchannels &__sentinel__:hello -@all .*\\+slaveof`)),
      `user app on #${sha("app pw")} ~* &* +@all -@admin -@dangerous +info`,
      "",
    ]);
    const sentinelUsers = fs.readFileSync(path.join(home, NODE_FILES.sentinelAcl), "utf8");
    expect(sentinelUsers).toMatch(new RegExp(`^user default off\nuser sentinel on #${sha("sen-pw")} allchannels \\+@all\nuser app on #${sha("app pw")} resetchannels &\\* -@all `));
    expect(sentinelUsers).not.toMatch(/sentinel\|failover/);
    expect(fs.readFileSync(path.join(home, NODE_FILES.redisAuth), "utf8")).toBe(
      `aclfile "${home}/${NODE_FILES.redisAcl}"\nmasteruser replication\nmasterauth "rep\\"pw"\n`,
    );
    expect(fs.readFileSync(path.join(home, NODE_FILES.sentinelAuth), "utf8")).toBe(
      `aclfile "${home}/${NODE_FILES.sentinelAcl}"\nsentinel auth-user mymaster sentinel\nsentinel auth-pass mymaster "sen-pw"\n` +
        'sentinel sentinel-user sentinel\nsentinel sentinel-pass "sen-pw"\n',
    );
    for (const f of [NODE_FILES.redisAcl, NODE_FILES.sentinelAcl]) expect(mode(path.join(home, f))).toBe("600");
    const everything = [NODE_FILES.redisAcl, NODE_FILES.sentinelAcl].map((f) => fs.readFileSync(path.join(home, f), "utf8")).join("");
    for (const password of ["app pw", "admin-pw", "sen-pw"]) expect(everything).not.toContain(password);
  });

  test("a later boot removes the credentials CONFIG REWRITE copied into the live configs, so the included ones win", () => {
    const { home, run } = boot({ REDIS_HA_PASSWORD: "old" });
    expect(run().status).toBe(0);
    const live = path.join(home, NODE_FILES.redisConf);
    fs.appendFileSync(live, '# Generated by CONFIG REWRITE\nrequirepass "old"\nmasterauth "old"\nmaxmemory 1gb\n');
    const sentinelLive = path.join(home, NODE_FILES.sentinelConf);
    fs.appendFileSync(sentinelLive, '# Generated by CONFIG REWRITE\nsentinel auth-pass mymaster "old"\nsentinel myid abc\n');
    expect(run({ REDIS_HA_PASSWORD: "new" }).status).toBe(0);
    expect(fs.readFileSync(live, "utf8")).not.toMatch(/^(requirepass|masterauth) /m);
    expect(fs.readFileSync(live, "utf8")).toContain("maxmemory 1gb");
    expect(fs.readFileSync(sentinelLive, "utf8")).not.toMatch(/^sentinel auth-pass /m);
    expect(fs.readFileSync(sentinelLive, "utf8")).toContain("sentinel myid abc");
    expect(fs.readFileSync(path.join(home, NODE_FILES.redisAuth), "utf8")).toContain('requirepass "new"');
  });

  test("with no sentinel answering, the rendered topology stands and the configs are installed unchanged", () => {
    const { home, node, run } = boot({ REDIS_HA_PASSWORD: "x" });
    const result = run();
    expect(result.stdout).toBe("redis-ha-boot: no sentinel answered; the rendered topology stands (master 127.0.9.11)\n");
    expect(fs.readFileSync(path.join(home, NODE_FILES.sentinelConf), "utf8")).toBe(node.sentinelConf);
  });

  test.each([
    ["the variable is unset", {}, "redis-ha-boot: the environment variable REDIS_HA_PASSWORD is empty or unset (auth.secrets)\n"],
    [
      "the password holds a newline",
      { REDIS_HA_PASSWORD: "a\nb" },
      "redis-ha-boot: the secret password holds a control character (a newline?): a Redis config file cannot carry it\n",
    ],
    ["the start mode is unknown", { REDIS_HA_PASSWORD: "x", REDIS_HA_START: "upstart" }, "redis-ha-boot: REDIS_HA_START must be systemd or none, not upstart\n"],
  ])("fails with a clear message when %s, writing no secret file", (_, env, message) => {
    const { home, run } = boot({});
    const result = run(env);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(message);
    if (!("REDIS_HA_START" in env)) expect(fs.existsSync(path.join(home, NODE_FILES.redisAuth))).toBe(false);
  });

  test("REDIS_HA_PROCESSES=sentinel installs only sentinel.conf, for a sentinel in a pod of its own", () => {
    const { home, run } = boot({ REDIS_HA_PASSWORD: "x", REDIS_HA_PROCESSES: "sentinel" });
    expect(run().status).toBe(0);
    expect(fs.existsSync(path.join(home, NODE_FILES.sentinelConf))).toBe(true);
    expect(fs.existsSync(path.join(home, NODE_FILES.redisConf))).toBe(false);
    const bad = run({ REDIS_HA_PROCESSES: "all" });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe("redis-ha-boot: REDIS_HA_PROCESSES must be both, redis or sentinel, not all\n");
  });

  test("fails when the rendered configs were not placed", () => {
    const { stage, run } = boot({ REDIS_HA_PASSWORD: "x" });
    fs.rmSync(path.join(stage, NODE_FILES.sentinelConf));
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`redis-ha-boot: missing ${stage}/sentinel.conf\n`);
  });
});

describe("an empty node that would start as master", () => {
  // Real redis-server processes stand at the peers' addresses (127.0.9.12 and .13): the boot script asks them DBSIZE.
  const pids: number[] = [];
  afterAll(async () => {
    for (const pid of pids) await stopProcess(pid, "SIGKILL");
  });
  const peer = (address: string) => {
    const dir = tempDir("boot-peer-");
    const args = ["--bind", address, "--port", "6379", "--requirepass", "x", "--save", "", "--appendonly", "no", "--dir", dir];
    pids.push(startProcess("redis-server", args, dir, path.join(dir, "redis.log")));
  };
  const cli = (address: string, ...args: string[]) =>
    spawnSync("redis-cli", ["-h", address, "-p", "6379", "--no-auth-warning", "-a", "x", ...args], { encoding: "utf8" }).stdout.trim();
  const answering = async (address: string) => {
    for (let i = 0; i < 100 && cli(address, "PING") !== "PONG"; i++) await new Promise((r) => setTimeout(r, 50));
  };
  const master = () => boot({ REDIS_HA_PASSWORD: "x", REDIS_HA_WAIT_SECONDS: "1" }, envSpec, 0);

  test("waits, then refuses, while a peer does not answer (the peers may still hold data)", () => {
    const result = master().run();
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("redis-ha-boot: no sentinel answers, and this node has no data while a peer holds some or does not answer: waiting\n");
    expect(result.stderr).toBe("redis-ha-boot: this node has no data and would still start as master after 1 s: refusing to start an empty master\n");
  });

  test("starts when every peer answers and holds no key (a new cluster, in any start order)", async () => {
    peer("127.0.9.12");
    peer("127.0.9.13");
    await answering("127.0.9.12");
    await answering("127.0.9.13");
    const { home, node, run } = master();
    const result = run();
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(fs.readFileSync(path.join(home, NODE_FILES.redisConf), "utf8")).toBe(node.redisConf);
  });

  test("refuses while a peer holds a key", () => {
    expect(cli("127.0.9.13", "SET", "k", "v")).toBe("OK");
    const result = master().run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("refusing to start an empty master");
    expect(cli("127.0.9.13", "DEL", "k")).toBe("1");
  });

  test("a data directory holding only lost+found (a new ext4 volume) counts as empty", () => {
    const { home, run } = master();
    fs.mkdirSync(path.join(home, NODE_FILES.dataDir, "lost+found"), { recursive: true });
    expect(run().status).toBe(0);
  });

  test("an existing home and data directory are used as they are: not chmodded (a volume root it does not own)", () => {
    const { home, run } = boot({ REDIS_HA_PASSWORD: "x" });
    fs.mkdirSync(path.join(home, NODE_FILES.dataDir), { recursive: true });
    fs.chmodSync(home, 0o2775);
    expect(run().status).toBe(0);
    expect((fs.statSync(home).mode & 0o7777).toString(8)).toBe("2775");
  });
});

describe("the liveness probe of a Redis loading its dataset", () => {
  // A real redis-server on 127.0.9.21 loads 20000 keys at 1 ms each (key-load-delay): about 20 s of LOADING.
  const address = "127.0.9.21";
  const config = parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } }, acl: { enabled: false } });
  const pids: number[] = [];
  afterAll(async () => {
    for (const pid of pids) await stopProcess(pid, "SIGKILL");
  });
  const cli = (...args: string[]) =>
    spawnSync("redis-cli", ["-h", address, "-p", "6379", "--no-auth-warning", "-a", "x", ...args], { encoding: "utf8" }).stdout.trim();
  const start = (dir: string, extra: string[] = []) => {
    const args = ["--bind", address, "--port", "6379", "--requirepass", "x", "--dir", dir, "--appendonly", "no", "--enable-debug-command", "yes", ...extra];
    const pid = startProcess("redis-server", args, dir, path.join(dir, "redis.log"));
    pids.push(pid);
    return pid;
  };
  const probe = (kind: string) => {
    const script = renderProbeScript(config, { addresses: [address, "127.0.9.22", "127.0.9.23"] }, 0);
    return spawnSync("bash", ["-c", script, "probe", kind], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH, REDIS_HA_PASSWORD: "x" },
    });
  };
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  };

  test("passes while PING answers LOADING; readiness fails until the load is done", async () => {
    const dir = tempDir("probe-loading-");
    const first = start(dir);
    await until(() => cli("PING") === "PONG");
    expect(cli("DEBUG", "POPULATE", "20000")).toBe("OK");
    expect(cli("SAVE")).toBe("OK");
    await stopProcess(first, "SIGTERM");
    // Loading answers clients between chunks of 1 KB (a large dataset answers every 2 MB by default).
    start(dir, ["--key-load-delay", "1000", "--loading-process-events-interval-bytes", "1024"]);
    await until(() => cli("PING").startsWith("LOADING"));
    expect(cli("PING")).toMatch(/^LOADING/);
    const live = probe("live");
    expect(live.stderr).toBe("");
    expect(live.status).toBe(0);
    expect(probe("ready").status).toBe(1);
  }, 60_000);
});
