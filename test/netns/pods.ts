import { Testing, TerraformStack } from "cdktf";
import Redis from "ioredis";
import { KubernetesRedisSentinel, type KubernetesRedisSentinelProps } from "../../constructs/kubernetes-redis-sentinel";
import { inspectCluster, TestNetwork, withClient, type ClusterStatus } from "../../src/local";
import { Kubelet } from "../../src/local/kubelet";
import { workloadsOfSynth, type SynthesizedWorkloads } from "../../src/local/workloads";
import { passwordKey, secretKeys, SYSTEM_USERS } from "../../src/spec";

// Kubernetes pods of a synthesized KubernetesRedisSentinel, run by the emulated kubelet (src/local/kubelet.ts) on a
// test network: the helpers the pod scenarios share.

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => (ms / 1000).toFixed(1);
export { seconds };

export interface PodCluster {
  readonly construct: KubernetesRedisSentinel;
  readonly workloads: SynthesizedWorkloads;
  /** The Secret's data: the passwords, made for this test. */
  readonly passwords: Record<string, string>;
  readonly redisSet: string;
  readonly sentinelSet?: string;
}

/** Synthesizes a stack holding a KubernetesRedisSentinel and reads its workloads back from the JSON. */
export function synthesize(props: Partial<KubernetesRedisSentinelProps> = {}): PodCluster {
  const stack = new TerraformStack(Testing.app(), "pods");
  const construct = new KubernetesRedisSentinel(stack, "redis", {
    namespace: "spoke",
    passwordSecret: "redis-passwords",
    spec: { redis: { memory: { maxmemory: "256mb" } } },
    ...props,
  });
  const workloads = workloadsOfSynth(JSON.parse(Testing.synth(stack)));
  const passwords = Object.fromEntries(secretKeys(construct.config).map((key, i) => [key, `pw-${i}-${Math.random().toString(36).slice(2)}`]));
  const separate = props.sentinels === "separate";
  return { construct, workloads, passwords, redisSet: "redis", ...(separate ? { sentinelSet: "redis-sentinel" } : {}) };
}

/** A kubelet for `cluster` on `network`, its pods from `firstPodAddress` on. */
export function kubeletFor(cluster: PodCluster, network: TestNetwork, firstPodAddress: string, log = false): Kubelet {
  return new Kubelet({
    network,
    workloads: cluster.workloads,
    secrets: { "redis-passwords": cluster.passwords },
    firstPodAddress,
    log: log ? (line) => console.log(line) : undefined,
  });
}

const credentials = (cluster: PodCluster) => ({
  redis: { username: SYSTEM_USERS.admin, password: cluster.passwords[passwordKey(SYSTEM_USERS.admin)] },
  sentinel: { username: SYSTEM_USERS.sentinel, password: cluster.passwords[passwordKey(SYSTEM_USERS.sentinel)] },
});

/** The cluster's health, judged by inspectCluster on the pods' DNS names (the test process resolves them). */
export function status(cluster: PodCluster, kubelet: Kubelet): Promise<ClusterStatus> {
  const { config } = cluster.construct;
  const endpoints = kubelet.endpoints(cluster.redisSet, cluster.sentinelSet, { redis: config.redis.port, sentinel: config.sentinel.port });
  return inspectCluster(endpoints, config.topology.masterName, credentials(cluster));
}

/** Waits until the cluster is healthy; returns how long that took, in ms. */
export async function waitHealthy(cluster: PodCluster, kubelet: Kubelet, timeoutMs = 120_000): Promise<ClusterStatus & { ms: number }> {
  const start = Date.now();
  for (;;) {
    const s = await status(cluster, kubelet);
    if (s.healthy) return { ...s, ms: Date.now() - start };
    if (Date.now() - start > timeoutMs) {
      const pods = [cluster.redisSet, ...(cluster.sentinelSet ? [cluster.sentinelSet] : [])].flatMap((set) =>
        Array.from({ length: cluster.construct.config.topology.nodeCount }, (_, i) => kubelet.describe(`${set}-${i}`)),
      );
      throw new Error(`not healthy after ${timeoutMs} ms:\n  - ${s.problems.join("\n  - ")}\n${pods.join("\n")}`);
    }
    await sleep(500);
  }
}

/** The pod name of the master the sentinels agree on. */
export function masterPod(s: ClusterStatus): string {
  if (!s.master) throw new Error("no master agreed");
  return s.master.split(".")[0];
}

/** Waits until the sentinels agree on a master other than `old` (a DNS name:port); returns the ms it took. */
export async function waitNewMaster(cluster: PodCluster, kubelet: Kubelet, old: string, timeoutMs = 60_000): Promise<number> {
  const start = Date.now();
  for (;;) {
    const s = await status(cluster, kubelet);
    if (s.master && s.master !== old) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`no master other than ${old} after ${timeoutMs} ms: ${s.problems.join("; ")}`);
    await sleep(200);
  }
}

/** What a writer saw: acknowledged writes (WAIT 1 >= 1), and the longest time between two acknowledged writes. */
export interface WriterReport {
  readonly acknowledged: readonly string[];
  readonly attempts: number;
  readonly longestPauseMs: number;
}

/**
 * An application writing through the sentinels (ioredis in sentinel mode, as the application user): key after key,
 * each followed by WAIT 1; a write counts as acknowledged when at least one replica has it.
 */
export function startWriter(cluster: PodCluster, kubelet: Kubelet, prefix: string) {
  const { config } = cluster.construct;
  const appUser = config.acl.users[0].name;
  const password = cluster.passwords[passwordKey(appUser)];
  const sentinelSet = kubelet.statefulSet(cluster.sentinelSet ?? cluster.redisSet);
  const client = new Redis({
    sentinels: Array.from({ length: sentinelSet.replicas }, (_, i) => ({ host: kubelet.dnsName(sentinelSet, i), port: config.sentinel.port })),
    name: config.topology.masterName,
    username: appUser,
    password,
    sentinelUsername: appUser,
    sentinelPassword: password,
    connectTimeout: 2000,
    commandTimeout: 3000,
  });
  client.on("error", () => undefined);
  const acknowledged: string[] = [];
  let attempts = 0;
  let longestPauseMs = 0;
  let lastOk = Date.now();
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      attempts++;
      const key = `${prefix}:${i}`;
      try {
        await client.set(key, `v${i}`);
        const replicas = Number(await client.call("WAIT", "1", "2000"));
        if (replicas >= 1) {
          acknowledged.push(key);
          longestPauseMs = Math.max(longestPauseMs, Date.now() - lastOk);
          lastOk = Date.now();
        }
      } catch {
        await sleep(50);
      }
    }
  })();
  return {
    async stop(): Promise<WriterReport> {
      stopped = true;
      await loop;
      longestPauseMs = Math.max(longestPauseMs, Date.now() - lastOk);
      client.disconnect();
      return { acknowledged, attempts, longestPauseMs };
    },
  };
}

/** The acknowledged keys that the master the sentinels name does not hold. */
export async function missingKeys(cluster: PodCluster, kubelet: Kubelet, keys: readonly string[]): Promise<string[]> {
  const s = await status(cluster, kubelet);
  const [host, port] = s.master!.split(":");
  const client = new Redis({ host, port: Number(port), ...credentials(cluster).redis, lazyConnect: true });
  try {
    await client.connect();
    const missing: string[] = [];
    for (let i = 0; i < keys.length; i += 500) {
      const batch = keys.slice(i, i + 500);
      const values = await client.mget(...batch);
      batch.forEach((key, j) => {
        if (values[j] === null) missing.push(key);
      });
    }
    return missing;
  } finally {
    client.disconnect();
  }
}

/** The role a Redis answers with (INFO replication), or undefined while it does not answer. */
export async function roleOf(cluster: PodCluster, host: string): Promise<string | undefined> {
  const { config } = cluster.construct;
  try {
    const info = await withClient(host, config.redis.port, credentials(cluster).redis, (c) => c.info("replication"), 1000);
    return /^role:(\w+)/m.exec(info)?.[1];
  } catch {
    return undefined;
  }
}
