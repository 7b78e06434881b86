import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { NODE_FILES } from "../render";

/** What a node boots from: its configs and boot script, as rendered or as taken from its user data. */
export interface NodeFiles {
  readonly redisConf: string;
  readonly sentinelConf: string;
  readonly bootScript: string;
}

/** A node's rendered files placed for its boot script, as cloud-init places them on a VM. */
export interface StagedNode {
  /** Directory holding the rendered redis.conf and sentinel.conf (the script's REDIS_HA_STAGE). */
  readonly stage: string;
  /** The node's home directory (REDIS_HA_HOME). */
  readonly home: string;
  /** The boot script. */
  readonly script: string;
  /** The network namespace the script runs in (it asks the sentinels over the network). @default the caller's */
  readonly namespace?: string;
}

/** Writes `node`'s rendered configs and boot script into `stage` (created, mode 0700) for a node living in `home`. */
export function stageNode(node: NodeFiles, stage: string, home: string): StagedNode {
  fs.mkdirSync(stage, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(stage, NODE_FILES.redisConf), node.redisConf);
  fs.writeFileSync(path.join(stage, NODE_FILES.sentinelConf), node.sentinelConf);
  const script = path.join(stage, "boot.sh");
  fs.writeFileSync(script, node.bootScript, { mode: 0o700 });
  return { stage, home, script };
}

/**
 * Runs a staged node's boot script as `redis-ha local` does: the node's own directories, the current user as owner,
 * and no service start (the caller starts the processes). `env` carries the secrets (REDIS_HA_SECRETS_DIR, or where `auth.secrets` says).
 */
export function runBootScript(node: StagedNode, env: Readonly<Record<string, string>>): SpawnSyncReturns<string> {
  const [program, ...args] = bootCommand(node);
  return spawnSync(program, args, { encoding: "utf8", env: bootEnvironment(node, env) });
}

/** `runBootScript` without blocking: nodes of one cluster boot at the same time, as VMs do. */
export function runBootScriptAsync(
  node: StagedNode,
  env: Readonly<Record<string, string>>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const [program, ...args] = bootCommand(node);
  return new Promise((resolve) => {
    const child = spawn(program, args, { env: bootEnvironment(node, env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (e) => resolve({ status: null, stdout, stderr: stderr + e.message }));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

const bootCommand = (node: StagedNode): string[] => [
  ...(node.namespace ? ["ip", "netns", "exec", node.namespace] : []),
  "bash",
  node.script,
];

const bootEnvironment = (node: StagedNode, env: Readonly<Record<string, string>>): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  REDIS_HA_HOME: node.home,
  REDIS_HA_STAGE: node.stage,
  REDIS_HA_USER: os.userInfo().username,
  REDIS_HA_START: "none",
  ...env,
});
