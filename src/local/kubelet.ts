import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ipaddr from "ipaddr.js";
import { ClusterDns } from "./cluster-dns";
import type { TestHost, TestNetwork } from "./netns";
import { isRunning } from "./processes";
import type { NodeEndpoint } from "./status";
import type { ContainerSpec, ProbeSpec, StatefulSetSpec, SynthesizedWorkloads } from "./workloads";

/**
 * Runs the pods of synthesized StatefulSets as a kubelet would, each in a network namespace of its own on a
 * `TestNetwork`, so that the Kubernetes render runs with its real host names and under the conditions a cluster
 * creates:
 *
 * - every container process in a mount and UTS namespace of its own (container.sh): a read-only root file system
 *   (readOnlyRootFilesystem) built from this machine's /usr (Debian's redis packages stand in for the redis image),
 *   the pod's user and group (runAsUser, runAsGroup, fsGroup as its group), HOSTNAME and the UTS host name set to the
 *   pod's name, the volumes at their mount paths;
 * - ConfigMap and Secret volumes with the files' defaultMode, owned by root with group fsGroup and group read added
 *   (as the kubelet does when fsGroup is set: a Secret's 0400 becomes 0440), mounted read-only; an emptyDir per pod
 *   (mode 0777), kept across container restarts; a PersistentVolume per pod and claim, kept across the pod's deletion,
 *   whose root belongs to root with group fsGroup and mode 2775, as a real volume's after fsGroup is applied;
 * - cluster DNS: a hosts file (ClusterDns) holding a record for each pod from its creation until its deletion,
 *   whatever its readiness (publishNotReadyAddresses); a recreated pod gets a new address;
 * - init containers run in order to completion, retried with back-off; then the containers start; a container
 *   that exits is restarted with back-off (1 s doubling to 10 s); `restartPod` re-runs the init containers, as a
 *   restarted pod sandbox does;
 * - startup, liveness and readiness exec probes with their delays, periods, timeouts and thresholds: liveness and
 *   readiness start once the startup probe passed; a failed startup or liveness probe restarts the container; a
 *   pod is Ready when every container's readiness probe passed;
 * - deletion: each container's preStop hook, then SIGTERM, then SIGKILL at terminationGracePeriodSeconds; then the
 *   DNS record and the namespace go;
 * - the StatefulSet controller: pods created in the order a test chooses (Parallel pod management allows any), and a
 *   rolling update from the highest ordinal down, each pod deleted and recreated, the next only once it is Ready.
 *
 * Not emulated: the API server and its objects, the scheduler, image pulls, cgroups and resource limits, seccomp,
 * network policies, and CoreDNS's cache. Every process is tracked by PID and stopped by PID; `destroy` stops all.
 */

const LAUNCHER = path.join(__dirname, "container.sh");
/** The image's PATH (the redis image's). */
const IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const BACKOFF_MS = { first: 1000, max: 10000 };

export interface KubeletOptions {
  readonly network: TestNetwork;
  readonly workloads: SynthesizedWorkloads;
  /** Each Secret's data, by Secret name (what the cluster's Secrets would hold). */
  readonly secrets: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The first pod address; each pod created takes the next one. Inside the network's subnet. */
  readonly firstPodAddress: string;
  /** @default "cluster.local" */
  readonly clusterDomain?: string;
  /** @default a new directory under the system's temporary directory */
  readonly dir?: string;
  /** Events (pods created, containers restarted, probes failing). @default silent */
  readonly log?: (line: string) => void;
}

/** One run of a container: a process, its probes and its state. */
interface ContainerRun {
  readonly spec: ContainerSpec;
  child?: ChildProcess;
  pid?: number;
  exited?: Promise<void>;
  /** Increases at each start; probes and restarts of an earlier start stop. */
  generation: number;
  /** The startup probe passed (or there is none). */
  started: boolean;
  ready: boolean;
  restarts: number;
  startedAt: number;
}

export interface Pod {
  readonly name: string;
  readonly set: StatefulSetSpec;
  readonly ordinal: number;
  readonly host: TestHost;
  readonly address: string;
  /** `<pod>.<service>.<namespace>.svc.<domain>` */
  readonly dnsName: string;
  readonly dir: string;
  phase: "Pending" | "Running" | "Terminating" | "Deleted";
  /** How many times the init containers ran to completion. */
  initRuns: number;
  readonly containers: Map<string, ContainerRun>;
  /** Increases when the pod's sandbox restarts (restartPod): runs of an earlier sandbox stop. */
  sandbox: number;
  init?: ChildProcess;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Kubelet {
  readonly dns: ClusterDns;
  readonly dir: string;
  readonly clusterDomain: string;
  private readonly pods = new Map<string, Pod>();
  /** Every process this kubelet started that may still run (containers, init containers, probes, hooks). */
  private readonly processes = new Set<ChildProcess>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private nextAddress: number;
  private hosts = 0;
  private readonly log: (line: string) => void;
  private readonly etc: string;

  constructor(private readonly options: KubeletOptions) {
    this.dir = path.resolve(options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "kubelet-")));
    this.clusterDomain = options.clusterDomain ?? "cluster.local";
    this.log = options.log ?? (() => undefined);
    this.dns = new ClusterDns(path.join(this.dir, "dns"));
    this.nextAddress = ipaddr.IPv4.parse(options.firstPodAddress).toByteArray().reduce((a, b) => a * 256 + b, 0);
    // The image's /etc: its users (the pod's uid and gid as `redis`), and name lookups through /etc/hosts.
    this.etc = path.join(this.dir, "etc");
    fs.mkdirSync(this.etc, { recursive: true });
    const ids = new Set(options.workloads.statefulSets.map((s) => `${s.runAsUser}:${s.runAsGroup}`));
    const [uid, gid] = [...ids][0]?.split(":") ?? ["999", "999"];
    fs.writeFileSync(path.join(this.etc, "passwd"), `root:x:0:0:root:/root:/bin/sh\nredis:x:${uid}:${gid}:redis:/data:/bin/sh\n`);
    fs.writeFileSync(path.join(this.etc, "group"), `root:x:0:\nredis:x:${gid}:\n`);
    fs.writeFileSync(path.join(this.etc, "nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files dns\n");
  }

  /** The StatefulSet named `name`. */
  statefulSet(name: string): StatefulSetSpec {
    const set = this.options.workloads.statefulSets.find((s) => s.name === name);
    if (!set) throw new Error(`no StatefulSet ${name} in the synthesized stack`);
    return set;
  }

  /** The DNS name of pod `ordinal` of `set`. */
  dnsName(set: StatefulSetSpec, ordinal: number): string {
    return `${set.name}-${ordinal}.${set.serviceName}.${set.namespace}.svc.${this.clusterDomain}`;
  }

  /** Pod `name` (such as `redis-0`), while it exists. */
  pod(name: string): Pod {
    const pod = this.pods.get(name);
    if (!pod) throw new Error(`no pod ${name}`);
    return pod;
  }

  hasPod(name: string): boolean {
    return this.pods.has(name);
  }

  /**
   * Where a cluster's Redis and Sentinel processes listen, by DNS name: the Redis StatefulSet's pods, and the
   * sentinels' (their own StatefulSet's pods, or the same ones with sidecars).
   */
  endpoints(redisSet: string, sentinelSet: string | undefined, ports: { redis: number; sentinel: number }): NodeEndpoint[] {
    const redis = this.statefulSet(redisSet);
    return Array.from({ length: redis.replicas }, (_, i) => ({
      address: this.dnsName(redis, i),
      redisPort: ports.redis,
      ...(sentinelSet ? { sentinelAddress: this.dnsName(this.statefulSet(sentinelSet), i) } : {}),
      sentinelPort: ports.sentinel,
    }));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Pods

  /** Creates pod `ordinal` of StatefulSet `setName`: a new address and namespace, its DNS record, then it starts. */
  createPod(setName: string, ordinal: number): Pod {
    const set = this.statefulSet(setName);
    const name = `${set.name}-${ordinal}`;
    if (this.pods.has(name)) throw new Error(`pod ${name} exists already`);
    const address = this.allocateAddress();
    const host = this.options.network.addHost(`k${this.hosts++}`, address);
    const dir = path.join(this.dir, "pods", `${name}-${host.name}`);
    const pod: Pod = {
      name,
      set,
      ordinal,
      host,
      address,
      dnsName: this.dnsName(set, ordinal),
      dir,
      phase: "Pending",
      initRuns: 0,
      containers: new Map(),
      sandbox: 0,
    };
    this.pods.set(name, pod);
    this.makeVolumes(pod);
    this.dns.set(pod.dnsName, address);
    this.log(`pod ${name} created at ${address} (${host.namespace})`);
    this.background(this.runPod(pod, pod.sandbox));
    return pod;
  }

  /**
   * Deletes pod `name` as the kubelet does: every container's preStop hook, then SIGTERM, then SIGKILL once the
   * grace period is over; then its DNS record and its namespace go. Its claims' volumes stay. `gracePeriodSeconds`
   * 0 kills every process at once, without the hooks, as a lost node would.
   */
  async deletePod(name: string, options: { readonly gracePeriodSeconds?: number } = {}): Promise<void> {
    const pod = this.pod(name);
    pod.phase = "Terminating";
    const grace = options.gracePeriodSeconds ?? pod.set.terminationGracePeriodSeconds;
    const deadline = Date.now() + grace * 1000;
    this.log(`pod ${name} terminating (grace ${grace} s)`);
    if (pod.init) this.kill(pod.init, "SIGKILL");
    await Promise.all(
      [...pod.containers.values()].map(async (run) => {
        // Grace period 0 (a forced deletion, or a node lost): no hook, SIGKILL at once.
        if (grace > 0 && run.spec.preStop && run.pid !== undefined && isRunning(run.pid)) {
          const hook = await this.execIn(pod, run, run.spec.preStop, deadline - Date.now());
          this.appendLog(pod, run.spec.name, `preStop exited ${hook.code}: ${hook.output.trim()}\n`);
        }
        await this.stopContainer(run, deadline);
      }),
    );
    this.dns.remove(pod.dnsName);
    this.options.network.removeHost(pod.host.name);
    pod.phase = "Deleted";
    this.pods.delete(name);
    this.log(`pod ${name} deleted`);
  }

  /**
   * Restarts pod `name` in place, as when its sandbox is recreated: every container is killed, the init containers
   * run again in the same pod (its emptyDir volumes kept), then the containers start again.
   */
  async restartPod(name: string): Promise<void> {
    const pod = this.pod(name);
    pod.sandbox++;
    pod.phase = "Pending";
    if (pod.init) this.kill(pod.init, "SIGKILL");
    await Promise.all([...pod.containers.values()].map((run) => this.stopContainer(run, Date.now())));
    pod.containers.clear();
    this.log(`pod ${name} sandbox restarted`);
    this.background(this.runPod(pod, pod.sandbox));
  }

  /** Sends `signal` to a container's process (SIGKILL: a crash); the kubelet restarts it with back-off. */
  killContainer(podName: string, container: string, signal: NodeJS.Signals = "SIGKILL"): number {
    const run = this.pod(podName).containers.get(container);
    if (!run?.child || run.pid === undefined) throw new Error(`container ${container} of pod ${podName} is not running`);
    process.kill(run.pid, signal);
    return run.pid;
  }

  /** Replaces the volume of claim `claim` of pod `podName` with a new, empty one (the PersistentVolume is lost). */
  loseVolume(podName: string, claim = "data"): void {
    if (this.pods.has(podName)) throw new Error(`pod ${podName} still runs: delete it before its volume goes`);
    fs.rmSync(this.claimDir(podName, claim), { recursive: true, force: true });
  }

  /** Whether pod `name` is Ready: running, and every container's readiness probe passed. */
  isReady(name: string): boolean {
    const pod = this.pods.get(name);
    return !!pod && pod.phase === "Running" && [...pod.containers.values()].every((run) => run.ready);
  }

  /** How many times a container has been restarted in this pod. */
  restarts(podName: string, container: string): number {
    return this.pod(podName).containers.get(container)?.restarts ?? 0;
  }

  /** The end of a container's log. */
  logTail(podName: string, container: string, lines = 20): string {
    const file = path.join(this.pod(podName).dir, "logs", `${container}.log`);
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n").slice(-lines).join("\n") : "";
  }

  async waitReady(name: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.isReady(name)) {
      if (Date.now() > deadline) throw new Error(`pod ${name} not Ready after ${timeoutMs} ms:\n${this.describe(name)}`);
      await sleep(200);
    }
  }

  /** A pod's containers and the end of their logs, for failure messages. */
  describe(name: string): string {
    const pod = this.pods.get(name);
    if (!pod) return `pod ${name}: none`;
    const parts = [`pod ${name} ${pod.phase}, init runs ${pod.initRuns}`];
    for (const c of [...pod.set.initContainers, ...pod.set.containers]) {
      const run = pod.containers.get(c.name);
      parts.push(`  ${c.name}: ${run ? `started ${run.started}, ready ${run.ready}, restarts ${run.restarts}` : "-"}`);
      parts.push(`    ${this.logTail(name, c.name, 8).replace(/\n/g, "\n    ")}`);
    }
    return parts.join("\n");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The StatefulSet controller

  /** Creates the pods of `setName` in `order` (Parallel pod management allows any), each once the one before runs. */
  async createPods(setName: string, order: readonly number[], options: { readonly waitRunningMs?: number } = {}): Promise<void> {
    for (const ordinal of order) {
      const pod = this.createPod(setName, ordinal);
      const deadline = Date.now() + (options.waitRunningMs ?? 0);
      while (Date.now() < deadline && pod.phase !== "Running") await sleep(100);
    }
  }

  /**
   * A rolling update of `setName` in StatefulSet order: from the highest ordinal down, each pod deleted and
   * recreated (with its volumes), and the next only once it is Ready. `onPod` runs after each pod is Ready again.
   */
  async rollingUpdate(setName: string, options: { readonly readyTimeoutMs?: number; readonly onPod?: (ordinal: number) => void } = {}): Promise<void> {
    const set = this.statefulSet(setName);
    for (let ordinal = set.replicas - 1; ordinal >= 0; ordinal--) {
      const name = `${set.name}-${ordinal}`;
      if (this.pods.has(name)) await this.deletePod(name);
      this.createPod(setName, ordinal);
      await this.waitReady(name, options.readyTimeoutMs ?? 180_000);
      options.onPod?.(ordinal);
    }
  }

  /** Stops every process this kubelet started, by PID, and removes its files. The network is the caller's. */
  async destroy(): Promise<void> {
    for (const pod of this.pods.values()) pod.phase = "Deleted";
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(
      [...this.processes].map(async (child) => {
        const exited = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())));
        this.kill(child, "SIGKILL");
        await Promise.race([exited, sleep(5000)]);
      }),
    );
    for (const pod of this.pods.values()) {
      try {
        this.options.network.removeHost(pod.host.name);
      } catch {
        // the network was destroyed first
      }
    }
    this.pods.clear();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Running a pod

  private async runPod(pod: Pod, sandbox: number): Promise<void> {
    const current = () => pod.sandbox === sandbox && pod.phase !== "Terminating" && pod.phase !== "Deleted";
    for (const spec of pod.set.initContainers) {
      for (let attempt = 0; ; attempt++) {
        if (!current()) return;
        const child = this.launch(pod, spec);
        pod.init = child;
        const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
        pod.init = undefined;
        if (!current()) return;
        if (code === 0) break;
        const backoff = Math.min(BACKOFF_MS.max, BACKOFF_MS.first * 2 ** attempt);
        this.log(`pod ${pod.name}: init container ${spec.name} exited ${code}; again in ${backoff} ms`);
        await sleep(backoff);
      }
    }
    if (!current()) return;
    pod.initRuns++;
    pod.phase = "Running";
    for (const spec of pod.set.containers) {
      const run: ContainerRun = { spec, generation: 0, started: false, ready: false, restarts: 0, startedAt: 0 };
      pod.containers.set(spec.name, run);
      this.startContainer(pod, run, sandbox);
    }
  }

  private startContainer(pod: Pod, run: ContainerRun, sandbox: number): void {
    const generation = ++run.generation;
    const live = () => pod.sandbox === sandbox && pod.phase === "Running" && run.generation === generation;
    run.started = false;
    run.ready = false;
    run.startedAt = Date.now();
    const child = this.launch(pod, run.spec);
    run.child = child;
    run.pid = child.pid;
    run.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    child.once("exit", (code, signal) => {
      if (!live()) return;
      run.ready = false;
      run.generation++; // its probes stop
      // Back-off doubles with each restart of a container that ran less than a minute, up to 10 s.
      if (Date.now() - run.startedAt > 60_000) run.restarts = 0;
      const backoff = Math.min(BACKOFF_MS.max, BACKOFF_MS.first * 2 ** Math.min(run.restarts, 4));
      run.restarts++;
      this.log(`pod ${pod.name}: container ${run.spec.name} exited (${signal ?? code}); restarting in ${backoff} ms`);
      this.after(backoff, () => {
        if (pod.sandbox === sandbox && pod.phase === "Running") this.startContainer(pod, run, sandbox);
      });
    });
    this.probe(pod, run, live);
  }

  /** Runs the container's startup probe, then its liveness and readiness probes, while `live()`. */
  private probe(pod: Pod, run: ContainerRun, live: () => boolean): void {
    const { startupProbe, livenessProbe, readinessProbe } = run.spec;
    const loop = (probe: ProbeSpec, onResult: (ok: boolean, output: string) => boolean) => {
      const tick = async () => {
        if (!live()) return;
        const result = await this.execIn(pod, run, probe.command, probe.timeoutSeconds * 1000);
        if (!live()) return;
        if (onResult(result.code === 0, result.output)) this.after(probe.periodSeconds * 1000, tick);
      };
      this.after(probe.initialDelaySeconds * 1000, tick);
    };
    const afterStartup = () => {
      run.started = true;
      if (livenessProbe) {
        let failures = 0;
        loop(livenessProbe, (ok, output) => {
          failures = ok ? 0 : failures + 1;
          if (failures < livenessProbe.failureThreshold) return true;
          this.log(`pod ${pod.name}: liveness probe of ${run.spec.name} failed ${failures} times (${output.trim()}): restarting it`);
          this.background(this.stopContainer(run, Date.now() + pod.set.terminationGracePeriodSeconds * 1000));
          return false;
        });
      }
      if (readinessProbe) {
        let failures = 0;
        loop(readinessProbe, (ok) => {
          failures = ok ? 0 : failures + 1;
          if (ok) run.ready = true;
          else if (failures >= readinessProbe.failureThreshold) run.ready = false;
          return true;
        });
      } else {
        run.ready = true;
      }
    };
    if (!startupProbe) return afterStartup();
    let failures = 0;
    loop(startupProbe, (ok, output) => {
      if (ok) {
        afterStartup();
        return false;
      }
      failures++;
      if (failures < startupProbe.failureThreshold) return true;
      this.log(`pod ${pod.name}: startup probe of ${run.spec.name} failed ${failures} times (${output.trim()}): restarting it`);
      this.background(this.stopContainer(run, Date.now() + pod.set.terminationGracePeriodSeconds * 1000));
      return false;
    });
  }

  /** SIGTERM, then SIGKILL at `deadline`; resolves once the process is gone. */
  private async stopContainer(run: ContainerRun, deadline: number): Promise<void> {
    const child = run.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.kill(child, deadline > Date.now() ? "SIGTERM" : "SIGKILL");
    await Promise.race([run.exited, sleep(Math.max(0, deadline - Date.now()))]);
    if (child.exitCode === null && child.signalCode === null) {
      this.kill(child, "SIGKILL");
      await run.exited;
    }
  }

  /** Starts a container's process in the pod's namespace, through container.sh. */
  private launch(pod: Pod, spec: ContainerSpec): ChildProcess {
    const set = pod.set;
    const root = fs.mkdtempSync(path.join(pod.dir, "roots", `${spec.name}-`));
    const mounts = spec.volumeMounts.map((m) => {
      const volume = set.volumes.find((v) => v.name === m.name);
      if (!volume) throw new Error(`${spec.name} mounts ${m.name}, which pod ${pod.name} does not have`);
      const readOnly = m.readOnly || volume.kind === "configMap" || volume.kind === "secret";
      return `${readOnly ? "ro" : "rw"}:${this.volumeDir(pod, volume.name, volume.kind)}:${m.mountPath}`;
    });
    const argv = this.options.network.exec(pod.host.name, [
      "unshare", "--mount", "--uts", "--propagation", "private",
      "bash", LAUNCHER, root, pod.name, String(set.runAsUser), String(set.runAsGroup), spec.workingDir, this.etc,
      this.dns.dir, String(spec.readOnlyRootFilesystem), ...mounts, "--", ...spec.command,
    ]);
    const out = fs.openSync(path.join(pod.dir, "logs", `${spec.name}.log`), "a");
    try {
      const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", out, out], detached: true, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
      this.track(child);
      return child;
    } finally {
      fs.closeSync(out);
    }
  }

  /**
   * Runs `command` in a running container (a probe, a hook): in its namespaces and root, as the pod's user, with
   * the image's environment. Killed after `timeoutMs`.
   */
  private execIn(pod: Pod, run: ContainerRun, command: readonly string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
    if (run.pid === undefined || !isRunning(run.pid)) return Promise.resolve({ code: null, output: "container not running" });
    const { runAsUser, runAsGroup } = pod.set;
    const argv = [
      "nsenter", "-t", String(run.pid), "-m", "-u", "-n", "-r", "-S", String(runAsUser), "-G", String(runAsGroup),
      "/usr/bin/env", "-i", "-C", run.spec.workingDir, `HOSTNAME=${pod.name}`, "HOME=/", `PATH=${IMAGE_PATH}`, ...command,
    ];
    return new Promise((resolve) => {
      const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], detached: true });
      this.track(child);
      let output = "";
      child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
      const timer = setTimeout(() => {
        output += `(timed out after ${timeoutMs} ms)`;
        this.kill(child, "SIGKILL");
      }, Math.max(1, timeoutMs));
      child.once("close", (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Volumes

  private claimDir(podName: string, claim: string): string {
    return path.join(this.dir, "volumes", `${claim}-${podName}`);
  }

  private volumeDir(pod: Pod, name: string, kind: string): string {
    return kind === "claim" ? this.claimDir(pod.name, name) : path.join(pod.dir, "volumes", name);
  }

  /** The pod's volumes, as the kubelet sets them up before the first container starts. */
  private makeVolumes(pod: Pod): void {
    const { fsGroup } = pod.set;
    for (const sub of ["logs", "roots", "volumes"]) fs.mkdirSync(path.join(pod.dir, sub), { recursive: true });
    // Files of a ConfigMap or Secret: defaultMode, root's, group fsGroup with group read added.
    const writeFiles = (dir: string, files: Array<[string, string]>, mode: number) => {
      fs.mkdirSync(dir, { mode: 0o755 });
      for (const [file, text] of files) {
        const target = path.join(dir, file);
        fs.writeFileSync(target, text);
        fs.chownSync(target, 0, fsGroup);
        fs.chmodSync(target, mode | 0o040);
      }
    };
    for (const volume of pod.set.volumes) {
      const dir = this.volumeDir(pod, volume.name, volume.kind);
      switch (volume.kind) {
        case "configMap": {
          const data = this.options.workloads.configMaps[volume.configMap];
          if (!data) throw new Error(`no ConfigMap ${volume.configMap} in the synthesized stack`);
          writeFiles(dir, Object.entries(data), volume.defaultMode);
          break;
        }
        case "secret": {
          const data = this.options.secrets[volume.secretName];
          if (!data) throw new Error(`no Secret ${volume.secretName}: give its data in the kubelet's secrets`);
          const items = volume.items.length > 0 ? volume.items : Object.keys(data).map((key) => ({ key, path: key }));
          writeFiles(dir, items.map((item) => [item.path, data[item.key]]), volume.defaultMode);
          break;
        }
        case "emptyDir":
          fs.mkdirSync(dir);
          fs.chmodSync(dir, 0o777);
          break;
        case "claim":
          // A new PersistentVolume's root after the kubelet applied fsGroup: root's, group fsGroup, setgid, 2775.
          if (!fs.existsSync(dir)) {
            fs.mkdirSync(dir, { recursive: true });
            fs.chownSync(dir, 0, fsGroup);
            fs.chmodSync(dir, 0o2775);
          }
          break;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Processes and timers

  private allocateAddress(): string {
    const n = this.nextAddress++;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
  }

  private appendLog(pod: Pod, container: string, text: string): void {
    fs.appendFileSync(path.join(pod.dir, "logs", `${container}.log`), text);
  }

  private track(child: ChildProcess): void {
    this.processes.add(child);
    child.on("error", (e) => this.log(`could not start a process: ${e.message}`));
    child.once("exit", () => this.processes.delete(child));
  }

  /** Signals a process this kubelet started, by its PID. */
  private kill(child: ChildProcess, signal: NodeJS.Signals): void {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(child.pid, signal);
    } catch {
      // already gone
    }
  }

  private after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private background(work: Promise<void>): void {
    work.catch((e) => this.log(`kubelet: ${e instanceof Error ? e.stack : String(e)}`));
  }
}
