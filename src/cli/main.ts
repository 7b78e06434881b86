#!/usr/bin/env node
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { LocalCluster, formatStatus, userDataOfStack } from "../local";
import { credentialsFromEnv, drill, formatCheck, formatDrill, formatVerdict, parseEndpoints, rotatePassword, verifyCluster } from "../ops";
import { renderSentinelUrl } from "../render";
import { DEFAULT_SENTINEL_PORT, parseSpec, SpecError, type RedisSentinelConfig } from "../spec";

const USAGE = `Usage:
  redis-ha local up     [--dir DIR] [--spec FILE | --stack STACK [--out cdktf.out]] [--first-address 127.0.0.11]
                        [--tls-dir DIR]
  redis-ha local status [--dir DIR] [--json]
  redis-ha local down   [--dir DIR]

  up      boots the rendered nodes of a spec (default: 3 nodes, every default) as real redis-server and
          redis-sentinel processes on loopback addresses, and returns once the cluster is healthy
  status  prints roles, replication links, each sentinel's view and SENTINEL CKQUORUM; exits 1 if unhealthy
  down    stops exactly the processes that up started, by PID

  --dir DIR      the cluster's files (default for up: a new directory, printed; for status and down: the last up)
  --spec FILE    a spec as JSON or YAML (see the README's spec reference)
  --stack STACK  boot a synthesized stack's nodes from the configs in their user data (addresses moved to
                 loopback, passwords made locally), such as redis-sentinel-dev; --out is cdktf's output directory
  --tls-dir DIR  with TLS: the directory holding tls.crt, tls.key and ca.crt for every node

  redis-ha verify --sentinels HOST:PORT,... [--master NAME] [--max-lag SECONDS] [--replicas N] [--json]
  redis-ha drill  --sentinels HOST:PORT,... [--master NAME] [--kill-local DIR | --no-pause] [--timeout SECONDS] [--json]

  verify  checks any running cluster (deployed or local) through its sentinels: every sentinel answers and
          names the same master, SENTINEL CKQUORUM is OK, the master answers with role master and takes a write
          (a DEL of a key no one writes), the expected replicas are online and each is within --max-lag of the
          master. One line per check; exits 1 if any fails
  drill   writes keys without pause (each confirmed with WAIT 1), has the sentinels fail over, and reports the
          time to a writable new master, acknowledged writes lost, healing, and the sentinels' events; exits 1 if
          an acknowledged write was lost, no new master took writes within --timeout (default 60), or the cluster
          did not heal. Planned (default): writes paused on the master around SENTINEL FAILOVER, as the preStop
          script does; --no-pause: SENTINEL FAILOVER alone, which loses the writes the old master takes after the
          promotion. Unplanned: --kill-local DIR kills that local cluster's master (SIGKILL), then restarts it

  --sentinels    every sentinel of the cluster, comma-separated (a HOST alone means port 26379)
  --master NAME  the master name the sentinels monitor (default: mymaster)
  --max-lag S    replication lag bound in seconds (default: 1)
  --replicas N   replicas that must be online (default: the most replicas any sentinel knows)
  --json         a machine-readable report on stdout (progress lines go to stderr)

  Credentials come from the environment only: REDIS_PASSWORD, REDIS_USERNAME (ACL users), and SENTINEL_USERNAME,
  SENTINEL_PASSWORD for the sentinels (default: the Redis ones). Drill keys are redis-ha-drill:* and expire in 1 h.

  redis-ha rotate add|drop --user USER --sentinels HOST:PORT,... [--master NAME]

  rotate  changes an ACL user's password without downtime. add: every Redis server and sentinel accepts the new
          password (NEW_PASSWORD) besides the old one (replication: replicas log in with it; sentinel: the
          sentinels do). Then store the new password where auth.secrets points and move the clients. drop: the
          old password (OLD_PASSWORD) is refused from then on. Log in as admin (REDIS_USERNAME=admin) and as the
          sentinel user (SENTINEL_USERNAME=sentinel). See the README's rotation procedure.`;

/** The spec `redis-ha local up` boots when none is given: every default, 3 nodes. */
export const DEFAULT_LOCAL_SPEC = { auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } } as const;

/** Remembers the directory of the last `up`, for `status` and `down` without --dir. */
const LAST_DIR_FILE = path.join(os.tmpdir(), `redis-ha-last-dir-${os.userInfo().uid}`);

class UsageError extends Error {}

/** The spec of `redis-ha local up`. A local cluster makes its own passwords, so `auth` may be left out. */
function loadSpec(file: string | undefined): RedisSentinelConfig {
  if (!file) return parseSpec(DEFAULT_LOCAL_SPEC);
  const spec: unknown = parseYaml(fs.readFileSync(file, "utf8"));
  if (spec === null || spec === undefined) {
    throw new UsageError(`${file} holds no spec: write its fields, such as "topology:\n  nodeCount: 3", or leave --spec out for the defaults`);
  }
  // A list or a scalar is left to the spec's own message; only an object gets the local password store.
  const withAuth = typeof spec === "object" && !Array.isArray(spec) && !("auth" in spec) ? { ...spec, auth: DEFAULT_LOCAL_SPEC.auth } : spec;
  return parseSpec(withAuth);
}

function clusterDir(dir: string | undefined): string {
  if (dir) return dir;
  if (fs.existsSync(LAST_DIR_FILE)) return fs.readFileSync(LAST_DIR_FILE, "utf8").trim();
  throw new UsageError("no --dir given and no earlier `redis-ha local up` to fall back on");
}

function connectionHelp(cluster: LocalCluster): string {
  const [first] = cluster.nodes;
  const sentinels = cluster.nodes.map((n) => `${n.sentinelAddress ?? n.address}:${n.sentinelPort}`);
  const name = cluster.masterName;
  const app = cluster.credentials("app");
  const admin = cluster.credentials("admin");
  const tls = app.tls ? ` --tls --cacert ${path.join(cluster.tlsDir!, "ca.crt")}` : "";
  const user = (username: string | undefined) => (username ? ` --user ${username}` : "");
  const secretOf = (username: string | undefined) => cluster.secretFile(username ? `${username}-password` : "password");
  return [
    "",
    `Connect (the passwords are in ${path.join(cluster.dir, "secrets")}, readable by you only; redis-cli reads one from REDISCLI_AUTH):`,
    `  REDISCLI_AUTH="$(cat ${secretOf(app.username)})" redis-cli${user(app.username)}${tls} -h ${first.sentinelAddress ?? first.address} -p ${first.sentinelPort} SENTINEL get-master-addr-by-name ${name}`,
    `  REDISCLI_AUTH="$(cat ${secretOf(admin.username)})" redis-cli${user(admin.username)}${tls} -h ${first.address} -p ${first.redisPort} INFO replication`,
    `  Spoke: SPOKE_REDIS_URL="${renderSentinelUrl({ masterName: name, sentinels, tls: app.tls !== undefined })}"${app.username ? ` (user ${app.username})` : ""}`,
    "",
    `Then: npm run redis-ha -- local status --dir ${cluster.dir}`,
    `      npm run redis-ha -- local down --dir ${cluster.dir}`,
  ].join("\n");
}

async function local(action: string | undefined, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      dir: { type: "string" },
      spec: { type: "string" },
      "first-address": { type: "string" },
      "tls-dir": { type: "string" },
      stack: { type: "string" },
      out: { type: "string", default: "cdktf.out" },
      json: { type: "boolean", default: false },
    },
    strict: true,
  });
  switch (action) {
    case "up": {
      if (values.stack && values.spec) throw new UsageError("give --spec or --stack, not both");
      const options = {
        dir: values.dir,
        firstAddress: values["first-address"],
        tlsDir: values["tls-dir"],
        log: (line: string) => console.log(line),
      };
      const cluster = values.stack
        ? await LocalCluster.upFromUserData(userDataOfStack(values.out, values.stack), options)
        : await LocalCluster.up(loadSpec(values.spec), options);
      fs.writeFileSync(LAST_DIR_FILE, cluster.dir + "\n");
      console.log(formatStatus(await cluster.status()));
      console.log(connectionHelp(cluster));
      return 0;
    }
    case "status": {
      const status = await LocalCluster.open(clusterDir(values.dir)).status();
      console.log(values.json ? JSON.stringify(status, null, 2) : formatStatus(status));
      return status.healthy ? 0 : 1;
    }
    case "down": {
      const cluster = LocalCluster.open(clusterDir(values.dir));
      const stopped = await cluster.down();
      console.log(`Stopped ${stopped.length} processes (PIDs ${stopped.join(", ") || "none"}); files kept in ${cluster.dir}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown action: local ${action ?? ""}`);
  }
}

function numberOption(value: string | undefined, flag: string, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} ${value}: must be a${integer ? " whole" : ""} number of at least 0, such as ${flag} ${integer ? 2 : 1}`);
  }
  return n;
}

function sentinelsOption(value: string | undefined) {
  if (!value) throw new UsageError("--sentinels is required: every sentinel of the cluster, such as --sentinels 10.0.1.10:26379,10.0.1.11:26379");
  try {
    return parseEndpoints(value, DEFAULT_SENTINEL_PORT);
  } catch (e) {
    throw new UsageError(`--sentinels: ${(e as Error).message}`);
  }
}

/** With --json, progress goes to stderr so that stdout is the JSON report alone. */
const progress = (json: boolean) => (line: string) => (json ? console.error(line) : console.log(line));

async function verify(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      sentinels: { type: "string" },
      master: { type: "string" },
      "max-lag": { type: "string" },
      replicas: { type: "string" },
      json: { type: "boolean", default: false },
    },
    strict: true,
  });
  const sentinels = sentinelsOption(values.sentinels);
  const log = progress(values.json);
  const result = await verifyCluster({
    sentinels,
    masterName: values.master,
    maxLagSeconds: numberOption(values["max-lag"], "--max-lag", false),
    replicas: numberOption(values.replicas, "--replicas", true),
    credentials: credentialsFromEnv(),
    onCheck: (check) => log(formatCheck(check)),
  });
  log(formatVerdict(result));
  if (values.json) console.log(JSON.stringify(result, null, 2));
  return result.ok ? 0 : 1;
}

async function drillCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      sentinels: { type: "string" },
      master: { type: "string" },
      "kill-local": { type: "string" },
      "no-pause": { type: "boolean", default: false },
      timeout: { type: "string" },
      json: { type: "boolean", default: false },
    },
    strict: true,
  });
  const sentinels = sentinelsOption(values.sentinels);
  const log = progress(values.json);
  const dir = values["kill-local"];
  const cluster = dir ? LocalCluster.open(dir) : undefined;
  const timeoutSeconds = numberOption(values.timeout, "--timeout", false);
  const result = await drill({
    sentinels,
    masterName: values.master ?? cluster?.masterName,
    credentials: credentialsFromEnv(),
    pauseWrites: !values["no-pause"],
    ...(timeoutSeconds !== undefined ? { timeoutMs: timeoutSeconds * 1000 } : {}),
    log,
    ...(cluster ? { kill: localKiller(cluster) } : {}),
  });
  log(formatDrill(result));
  if (values.json) console.log(JSON.stringify(result, null, 2));
  return result.ok ? 0 : 1;
}

async function rotate(phase: string | undefined, args: string[]): Promise<number> {
  if (phase !== "add" && phase !== "drop") throw new UsageError("rotate takes add or drop, such as: redis-ha rotate add --user app ...");
  const { values } = parseArgs({
    args,
    options: { user: { type: "string" }, sentinels: { type: "string" }, master: { type: "string" } },
    strict: true,
  });
  if (!values.user) throw new UsageError("--user is required: the ACL user whose password changes, such as --user app");
  const variable = phase === "add" ? "NEW_PASSWORD" : "OLD_PASSWORD";
  const password = process.env[variable];
  if (!password) throw new UsageError(`${variable} is not set: the ${phase === "add" ? "new" : "old"} password comes from the environment, never a flag`);
  const result = await rotatePassword({
    sentinels: sentinelsOption(values.sentinels),
    masterName: values.master ?? "mymaster",
    credentials: credentialsFromEnv(),
    user: values.user,
    phase,
    password,
    log: (line) => console.log(line),
  });
  console.log(result.ok ? `Done: ${phase} on every server and sentinel.` : "Not done everywhere: fix the FAIL lines and run it again.");
  return result.ok ? 0 : 1;
}

/** Kills a local cluster's Redis at the master's address with SIGKILL; restarting it is left to the drill. */
function localKiller(cluster: LocalCluster) {
  return async (master: { host: string; port: number }) => {
    const index = cluster.nodes.findIndex((n) => n.address === master.host && n.redisPort === master.port);
    if (index < 0) throw new Error(`the master ${master.host}:${master.port} is no node of the local cluster in ${cluster.dir}`);
    await cluster.stop("redis", index, "SIGKILL");
    return {
      description: `SIGKILL of node ${index}'s redis-server (${master.host}:${master.port})`,
      restart: async () => {
        cluster.start("redis", index);
        return `restarted node ${index}'s redis-server`;
      },
    };
  };
}

export async function main(argv: string[]): Promise<number> {
  const [command, action, ...rest] = argv;
  try {
    if (command === "local") return await local(action, rest);
    if (command === "verify") return await verify(argv.slice(1));
    if (command === "drill") return await drillCommand(argv.slice(1));
    if (command === "rotate") return await rotate(action, rest);
    if (command === undefined || command === "--help" || command === "help") {
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command: ${command}`);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`redis-ha: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    console.error(e instanceof SpecError ? e.message : `redis-ha: ${(e as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
