#!/usr/bin/env node
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { LocalCluster, formatStatus, userDataOfStack } from "../local";
import { parseSpec, SpecError, type RedisSentinelConfig } from "../spec";

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
  --tls-dir DIR  with TLS: the directory holding tls.crt, tls.key and ca.crt for every node`;

/** The spec `redis-ha local up` boots when none is given: every default, 3 nodes. */
export const DEFAULT_LOCAL_SPEC = { auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } } as const;

/** Remembers the directory of the last `up`, for `status` and `down` without --dir. */
const LAST_DIR_FILE = path.join(os.tmpdir(), `redis-ha-last-dir-${os.userInfo().uid}`);

class UsageError extends Error {}

/** The spec of `redis-ha local up`. A local cluster makes its own passwords, so `auth` may be left out. */
function loadSpec(file: string | undefined): RedisSentinelConfig {
  if (!file) return parseSpec(DEFAULT_LOCAL_SPEC);
  const spec: unknown = parseYaml(fs.readFileSync(file, "utf8"));
  const withAuth = spec && typeof spec === "object" && !("auth" in spec) ? { ...spec, auth: DEFAULT_LOCAL_SPEC.auth } : spec;
  return parseSpec(withAuth);
}

function clusterDir(dir: string | undefined): string {
  if (dir) return dir;
  if (fs.existsSync(LAST_DIR_FILE)) return fs.readFileSync(LAST_DIR_FILE, "utf8").trim();
  throw new UsageError("no --dir given and no earlier `redis-ha local up` to fall back on");
}

function connectionHelp(cluster: LocalCluster): string {
  const [first] = cluster.nodes;
  const sentinels = cluster.nodes.map((n) => `${n.sentinelAddress ?? n.address}:${n.sentinelPort}`).join(",");
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
    `  Spoke: SPOKE_REDIS_URL="${app.tls ? "rediss" : "redis"}://${name}@${sentinels}/master/${name}"${app.username ? ` (user ${app.username})` : ""}`,
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

export async function main(argv: string[]): Promise<number> {
  const [command, action, ...rest] = argv;
  try {
    if (command === "local") return await local(action, rest);
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
