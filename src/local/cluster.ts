import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CERTIFICATE_KEYS, passwordKey, PASSWORD_KEY, SYSTEM_USERS, type RedisSentinelConfig } from "../spec";
import { NODE_FILES, renderCluster } from "../render";
import { runBootScript, runBootScriptAsync, stageNode, type NodeFiles } from "./boot";
import { BINARIES, isOurProcess, isRunning, requireBinaries, startProcess, stopProcess } from "./processes";
import type { ClientAuth } from "./client";
import { inspectCluster, type ClusterStatus, type NodeEndpoint } from "./status";
import { localAddresses } from "./addresses";
import type { TestHost } from "./netns";
import { clusterFromUserData } from "./user-data";

export interface LocalUpOptions {
  /** Directory for every node's files. @default a new directory under the system's temporary directory */
  readonly dir?: string;
  /** First loopback address; node i gets the i-th address after it. @default LOCAL_FIRST_ADDRESS ("127.0.0.11") */
  readonly firstAddress?: string;
  /** Run each node's Sentinel on an address of its own: the node's address + 10 (127.0.0.21, ...). @default false */
  readonly separateSentinels?: boolean;
  /** With TLS: a directory holding the certificate (tls.crt), its key (tls.key) and the CA (ca.crt) for every node. */
  readonly tlsDir?: string;
  /** How long to wait for a healthy cluster. @default 60000 */
  readonly healthTimeoutMs?: number;
  /** Progress lines. @default silent */
  readonly log?: (line: string) => void;
  /**
   * Run node i on test host `hosts[i]` of a `TestNetwork` (its address, in its own network namespace) instead of on
   * a loopback address: its processes and its boot script run in that namespace, so that the network between the
   * nodes can be partitioned. Not with `separateSentinels` or `firstAddress`. @default loopback addresses
   */
  readonly hosts?: readonly TestHost[];
}

/** The two processes of a node. */
export type ProcessKind = "redis" | "sentinel";
const KINDS: readonly ProcessKind[] = ["redis", "sentinel"];
const PROCESSES = {
  redis: { binary: BINARIES.redis, conf: NODE_FILES.redisConf, log: "redis.log" },
  sentinel: { binary: BINARIES.sentinel, conf: NODE_FILES.sentinelConf, log: "sentinel.log" },
} as const;

interface NodeState extends NodeEndpoint {
  readonly index: number;
  readonly home: string;
  /** The network namespace the node's processes and boot script run in. @default the caller's */
  readonly namespace?: string;
  /** PIDs of the processes this cluster started, by kind. */
  readonly pids: { redis?: number; sentinel?: number };
}

const portOf = (node: NodeState, kind: ProcessKind) => (kind === "redis" ? node.redisPort : node.sentinelPort);
/** True while the PID recorded for `kind` is a process this cluster started (not a reused PID). */
const isRunningOurs = (node: NodeState, kind: ProcessKind, pid = node.pids[kind]): pid is number =>
  pid !== undefined && isOurProcess(pid, PROCESSES[kind].binary, node.home);

interface ClusterState {
  readonly masterName: string;
  readonly nodes: NodeState[];
  /** ACL mode: the application user clients log in as. Absent in password mode. */
  readonly appUser?: string;
  /** With TLS: the directory holding tls.crt, tls.key and ca.crt. */
  readonly tlsDir?: string;
}

/** Who logs in: an application (the first application user), an operator (`admin`), or a sentinel's peer. */
export type LocalRole = "app" | "admin" | "sentinel";

const STATE_FILE = "cluster.json";
/** The command prefix that runs a program in network namespace `namespace` (none for the caller's). */
const inNamespace = (namespace: string | undefined): string[] => (namespace ? ["ip", "netns", "exec", namespace] : []);
/** One file per secret, named by its key (the boot scripts' REDIS_HA_SECRETS_DIR). */
const SECRETS_DIR = "secrets";
const safePath = /^[A-Za-z0-9._/-]+$/;

/**
 * A Redis Sentinel cluster of real `redis-server` and `redis-sentinel` processes on loopback addresses, booted from
 * the rendered configs by the rendered boot script. Every process it starts is recorded with its PID in
 * `DIR/cluster.json` and stopped by that PID.
 */
export class LocalCluster {
  /** Renders `config` for loopback addresses, boots every node and waits until the cluster is healthy. */
  static async up(config: RedisSentinelConfig, options: LocalUpOptions = {}): Promise<LocalCluster> {
    const n = config.topology.nodeCount;
    if (options.hosts && (options.hosts.length !== n || options.separateSentinels || options.firstAddress)) {
      throw new Error(`hosts must name one test host per node (${n}), without separateSentinels or firstAddress`);
    }
    const addresses = options.hosts ? options.hosts.map((h) => h.address) : localAddresses(n, options.firstAddress);
    const first = addresses[0].split(".");
    const sentinelAddresses = options.separateSentinels
      ? localAddresses(n, [...first.slice(0, 3), Number(first[3]) + 10].join("."))
      : undefined;
    const meta = { masterName: config.topology.masterName, redisPort: config.redis.port, sentinelPort: config.sentinel.port };
    const rendered = renderCluster(config, { addresses, sentinelAddresses });
    return LocalCluster.boot(
      rendered.map((node, i) => ({ ...node, sentinelAddress: sentinelAddresses?.[i] })),
      meta,
      options,
    );
  }

  /**
   * Boots a deployed cluster from the user data of its nodes (node order), such as a synthesized stack's: the
   * configs and boot script in it, with only the addresses moved to loopback and the password made locally.
   */
  static async upFromUserData(userData: readonly string[], options: LocalUpOptions = {}): Promise<LocalCluster> {
    const { nodes, ...meta } = clusterFromUserData(userData, options.firstAddress);
    return LocalCluster.boot(nodes, meta, options);
  }

  private static async boot(
    nodes: ReadonlyArray<NodeFiles & { readonly address: string; readonly sentinelAddress?: string }>,
    meta: { readonly masterName: string; readonly redisPort: number; readonly sentinelPort: number },
    options: LocalUpOptions,
  ): Promise<LocalCluster> {
    requireBinaries();
    const log = options.log ?? (() => undefined);
    // Everything is checked before the directory is made: a refused start leaves nothing behind.
    const given = options.dir === undefined ? undefined : path.resolve(options.dir);
    if (given !== undefined && !safePath.test(given)) throw new Error(`--dir must be a path of letters, digits, '.', '_', '-' and '/': ${given}`);
    if (given !== undefined && fs.existsSync(path.join(given, STATE_FILE))) {
      throw new Error(
        `${given} already holds a local cluster: stop it with \`redis-ha local down --dir ${given}\` and remove the directory, or choose another --dir`,
      );
    }

    // The secrets the boot scripts read are made for this cluster, one file each in DIR/secrets (0600); never printed.
    const keys = [...new Set([...nodes[0].bootScript.matchAll(/^\w+="\$\(secret (\S+)\)"$/gm)].map((m) => m[1]))];
    if (keys.length === 0) throw new Error("the boot script reads no password: is it from cdktf-redis-sentinel?");
    const appUser = /^user_password_0="\$\(secret (\S+)-password\)"$/m.exec(nodes[0].bootScript)?.[1];
    const usesTls = /^certificate /m.test(nodes[0].bootScript);
    if (usesTls && !options.tlsDir) {
      throw new Error("this cluster uses TLS: give a directory holding tls.crt, tls.key and ca.crt (--tls-dir, tlsDir)");
    }
    const tlsDir = usesTls ? path.resolve(options.tlsDir!) : undefined;
    if (tlsDir) {
      for (const key of Object.values(CERTIFICATE_KEYS)) {
        if (!fs.existsSync(path.join(tlsDir, key))) throw new Error(`${path.join(tlsDir, key)} is missing (tlsDir)`);
      }
    }
    const dir = given ?? fs.mkdtempSync(path.join(os.tmpdir(), "redis-ha-"));
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(path.join(dir, SECRETS_DIR), { mode: 0o700 });
    for (const key of keys) {
      fs.writeFileSync(path.join(dir, SECRETS_DIR, key), randomBytes(24).toString("base64url"), { mode: 0o600 });
    }

    const state: ClusterState = {
      ...(appUser ? { appUser } : {}),
      ...(tlsDir ? { tlsDir } : {}),
      masterName: meta.masterName,
      nodes: nodes.map((node, index) => ({
        index,
        address: node.address,
        ...(node.sentinelAddress ? { sentinelAddress: node.sentinelAddress } : {}),
        redisPort: meta.redisPort,
        sentinelPort: meta.sentinelPort,
        home: path.join(dir, `node-${index}`),
        ...(options.hosts ? { namespace: options.hosts[index].namespace } : {}),
        pids: {},
      })),
    };
    const cluster = new LocalCluster(dir, state);
    cluster.save();

    try {
      // Every node boots at once, as VMs do, and starts its processes when its boot script is done: an empty
      // rendered master waits until every peer's Redis answers (and holds no key) before it starts.
      nodes.forEach((node, index) => stageNode(node, cluster.stageOf(index), state.nodes[index].home));
      await Promise.all(
        state.nodes.map(async (node) => {
          await cluster.runBootScriptAsync(node.index);
          for (const kind of KINDS) cluster.start(kind, node.index);
        }),
      );
      log(`Started ${state.nodes.length} redis-server and ${state.nodes.length} redis-sentinel processes in ${dir}`);
      await cluster.waitHealthy(options.healthTimeoutMs ?? 60000, log);
    } catch (e) {
      await cluster.down();
      throw e;
    }
    return cluster;
  }

  /** The cluster whose files are in `dir`. */
  static open(dir: string): LocalCluster {
    const file = path.join(path.resolve(dir), STATE_FILE);
    if (!fs.existsSync(file)) throw new Error(`no local cluster in ${dir} (${file} is missing)`);
    return new LocalCluster(path.resolve(dir), JSON.parse(fs.readFileSync(file, "utf8")) as ClusterState);
  }

  private constructor(
    /** Directory holding every node's files. */
    readonly dir: string,
    private readonly state: ClusterState,
  ) {}

  get masterName(): string {
    return this.state.masterName;
  }

  get nodes(): readonly NodeEndpoint[] {
    return this.state.nodes;
  }

  /** With TLS: the directory holding tls.crt, tls.key and ca.crt. */
  get tlsDir(): string | undefined {
    return this.state.tlsDir;
  }

  /** Where the secret `key` is kept: `DIR/secrets/<key>`, readable by its owner only. */
  secretFile(key: string): string {
    return path.join(this.dir, SECRETS_DIR, key);
  }

  /** The secret `key`, such as `app-password`. */
  secret(key: string): string {
    return fs.readFileSync(this.secretFile(key), "utf8");
  }

  /** The password applications use: the application user's in ACL mode, the one password otherwise. */
  password(): string {
    return this.credentials("app").password;
  }

  /**
   * How `role` logs in: in ACL mode as the first application user, `admin` or `sentinel`, each with its own
   * password; in password mode with the one password. Over TLS, with the CA and the nodes' certificate, when on.
   */
  credentials(role: LocalRole): ClientAuth {
    const { appUser, tlsDir } = this.state;
    const tls = tlsDir
      ? {
          tls: {
            ca: fs.readFileSync(path.join(tlsDir, CERTIFICATE_KEYS.ca)),
            cert: fs.readFileSync(path.join(tlsDir, CERTIFICATE_KEYS.certificate)),
            key: fs.readFileSync(path.join(tlsDir, CERTIFICATE_KEYS.key)),
          },
        }
      : {};
    if (!appUser) return { password: this.secret(PASSWORD_KEY), ...tls };
    const username = role === "app" ? appUser : SYSTEM_USERS[role];
    return { username, password: this.secret(passwordKey(username)), ...tls };
  }

  /** The PIDs of the processes this cluster started that still run. */
  runningPids(): number[] {
    return this.state.nodes.flatMap((node) => KINDS.filter((k) => isRunningOurs(node, k)).map((k) => node.pids[k]!));
  }

  /** Starts node `index`'s Redis or Sentinel from the config in its home directory (as rewritten by failovers). */
  start(kind: ProcessKind, index: number): number {
    const node = this.state.nodes[index];
    const { binary, conf, log } = PROCESSES[kind];
    const pid = startProcess(binary, [conf], node.home, path.join(node.home, log), inNamespace(node.namespace));
    node.pids[kind] = pid;
    this.save();
    return pid;
  }

  /**
   * Sends `signal` to node `index`'s Redis or Sentinel (SIGKILL: a crash) and waits for it to exit. The process is
   * then no longer recorded, so `waitHealthy` does not report it as having died on its own.
   */
  async stop(kind: ProcessKind, index: number, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const node = this.state.nodes[index];
    const pid = node.pids[kind];
    if (isRunningOurs(node, kind, pid)) await stopProcess(pid, signal);
    delete node.pids[kind];
    this.save();
  }

  /** Where node `index`'s rendered configs and boot script are placed: outside its home, which a rebuild wipes. */
  private stageOf(index: number): string {
    return path.join(this.dir, "rendered", `node-${index}`);
  }

  /** Runs node `index`'s boot script, which reads the secrets from DIR/secrets; returns what it printed. */
  private runBootScript(index: number, env: Readonly<Record<string, string>> = {}): string {
    return this.bootResult(index, runBootScript(this.stagedNode(index), this.bootEnvironment(env)));
  }

  /** `runBootScript` without blocking. */
  private async runBootScriptAsync(index: number, env: Readonly<Record<string, string>> = {}): Promise<string> {
    return this.bootResult(index, await runBootScriptAsync(this.stagedNode(index), this.bootEnvironment(env)));
  }

  private stagedNode(index: number) {
    const node = this.state.nodes[index];
    return { stage: this.stageOf(index), home: node.home, script: path.join(this.stageOf(index), "boot.sh"), namespace: node.namespace };
  }

  private bootEnvironment(env: Readonly<Record<string, string>>): Record<string, string> {
    return {
      REDIS_HA_SECRETS_DIR: path.join(this.dir, SECRETS_DIR),
      ...(this.state.tlsDir ? { REDIS_HA_TLS_DIR: this.state.tlsDir } : {}),
      ...env,
    };
  }

  private bootResult(index: number, result: { status: number | null; stdout: string; stderr: string }): string {
    if (result.status !== 0) {
      throw new Error(`the boot script of node ${index} failed: ${result.stderr.trim()}\n${result.stdout.trim()}`);
    }
    return result.stdout;
  }

  /**
   * Replaces node `index` as a new VM with a new disk would: stops its processes, removes its home directory and
   * runs its boot script again (with `env` added), which asks the sentinels where the master is. Returns what the
   * script printed; start the processes with `start`.
   */
  async rebuild(index: number, env: Readonly<Record<string, string>> = {}): Promise<string> {
    await this.stop("sentinel", index);
    await this.stop("redis", index);
    fs.rmSync(this.state.nodes[index].home, { recursive: true, force: true });
    return this.runBootScript(index, env);
  }

  /**
   * Restarts node `index` as a VM reboot does: stops its processes, runs its boot script again (which rewrites the
   * included credentials from the secrets and keeps the configs Redis and Sentinel rewrote), starts both again.
   */
  async reboot(index: number): Promise<string> {
    await this.stop("sentinel", index);
    await this.stop("redis", index);
    const output = this.runBootScript(index);
    for (const kind of KINDS) this.start(kind, index);
    return output;
  }

  /** Asks every process for its view. */
  status(): Promise<ClusterStatus> {
    return inspectCluster(this.state.nodes, this.state.masterName, {
      redis: this.credentials("admin"),
      sentinel: this.credentials("sentinel"),
    });
  }

  /** Polls `status()` until healthy; throws with the last problems after `timeoutMs`. */
  async waitHealthy(timeoutMs = 60000, log: (line: string) => void = () => undefined): Promise<ClusterStatus> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    for (;;) {
      this.assertProcessesRunning();
      const status = await this.status();
      if (status.healthy) return status;
      const summary = `${status.problems.length} to go, such as: ${status.problems[0]}`;
      if (summary !== last) log(`Waiting for a healthy cluster: ${summary}`);
      last = summary;
      if (Date.now() > deadline) {
        throw new Error(
          `local cluster in ${this.dir} not healthy after ${timeoutMs} ms:\n  - ${status.problems.join("\n  - ")}\n${this.logEnds("sentinel", 12)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /** The last `lines` lines of every node's log of `kind`, for an error message (the logs hold no secret). */
  private logEnds(kind: ProcessKind, lines: number): string {
    return this.state.nodes
      .map((node) => {
        const log = path.join(node.home, PROCESSES[kind].log);
        const tail = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").slice(-lines) : [];
        return `the end of ${log}:\n    ${tail.join("\n    ")}`;
      })
      .join("\n");
  }

  /** Throws, with the end of its log, when a process this cluster started has exited (a port taken, a bad config). */
  private assertProcessesRunning(): void {
    for (const node of this.state.nodes) {
      for (const kind of KINDS) {
        const pid = node.pids[kind];
        if (pid !== undefined && !isRunning(pid)) {
          const log = path.join(node.home, PROCESSES[kind].log);
          const tail = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").slice(-3).join("\n    ") : "";
          throw new Error(
            `${PROCESSES[kind].binary} of node ${node.index} (${kind === "sentinel" ? node.sentinelAddress ?? node.address : node.address}:${portOf(node, kind)}) exited; the end of ${log}:\n    ${tail}`,
          );
        }
      }
    }
  }

  /** Stops exactly the processes this cluster started, by PID; sentinels first, so that none starts a failover. */
  async down(): Promise<number[]> {
    const stopped: number[] = [];
    for (const kind of [...KINDS].reverse()) {
      await Promise.all(
        this.state.nodes.map(async (node) => {
          const pid = node.pids[kind];
          if (isRunningOurs(node, kind, pid)) stopped.push(pid);
          await this.stop(kind, node.index);
        }),
      );
    }
    return stopped;
  }

  private save(): void {
    fs.writeFileSync(path.join(this.dir, STATE_FILE), JSON.stringify(this.state, null, 2) + "\n");
  }
}
