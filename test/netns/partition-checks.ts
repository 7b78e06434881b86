import { execFile } from "node:child_process";
import * as fs from "node:fs";
import Redis, { type RedisOptions } from "ioredis";
import { LocalCluster, TestNetwork, withClient, type LocalRole } from "../../src/local";
import { closeClient, openClient } from "../../src/ops/connect";
import { writeRefusal } from "../../src/ops/write-probe";
import { parseSpec, type RedisSentinelConfig } from "../../src/spec";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The spec every partition test boots: the defaults (ACL mode, down-after 5 s, min-replicas-max-lag 2 s). */
export const DEFAULT_CONFIG: RedisSentinelConfig = parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } });

/** A cluster of `config` on a test network of its own: node i on host `n<i>`, at the subnet's address .11 + i. */
export interface NetCluster {
  readonly net: TestNetwork;
  readonly cluster: LocalCluster;
  /** Host names by node index: n0, n1, ... */
  readonly hosts: readonly string[];
  readonly config: RedisSentinelConfig;
  /** Stops every process by PID, deletes the network and the cluster's directory. */
  destroy(): Promise<void>;
}

/**
 * Boots `config` on network `name` (`subnet` a /24 such as 198.18.96.0/24); `prepare` runs on the network before
 * the nodes boot (a per-host sysctl, say).
 */
export async function bootOnNetwork(
  name: string,
  subnet: string,
  config: RedisSentinelConfig = DEFAULT_CONFIG,
  prepare: (net: TestNetwork, hosts: readonly string[]) => void = () => undefined,
): Promise<NetCluster> {
  const net = TestNetwork.create({ name, subnet });
  const base = subnet.split("/")[0].split(".").slice(0, 3).join(".");
  const hosts = Array.from({ length: config.topology.nodeCount }, (_, i) => `n${i}`);
  let cluster: LocalCluster | undefined;
  const destroy = async () => {
    await cluster?.down();
    net.destroy();
    // PARTITION_KEEP_DIRS=1 keeps the nodes' logs for reading after a run.
    if (cluster && !process.env.PARTITION_KEEP_DIRS) fs.rmSync(cluster.dir, { recursive: true, force: true });
  };
  try {
    const testHosts = hosts.map((h, i) => net.addHost(h, `${base}.${11 + i}`));
    prepare(net, hosts);
    cluster = await LocalCluster.up(config, { hosts: testHosts, healthTimeoutMs: 90_000 });
  } catch (e) {
    await destroy();
    throw e;
  }
  return { net, cluster, hosts, config, destroy };
}

/** Polls `fn` every `everyMs` until it returns something other than undefined; throws after `timeoutMs`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/**
 * `redis-cli` run inside host `host`'s network namespace, as `role`, the password in REDISCLI_AUTH: how the test
 * sees the side of a partition the controller is cut from. Resolves with the reply's text, rejects on an error.
 */
export function cliIn(nc: NetCluster, host: string, role: LocalRole, address: string, port: number, ...args: string[]): Promise<string> {
  const { username, password } = nc.cluster.credentials(role);
  const argv = nc.net.exec(host, ["timeout", "3", "redis-cli", "-h", address, "-p", String(port), ...(username ? ["--user", username] : []), "--no-auth-warning", ...args]);
  return new Promise((resolve, reject) => {
    execFile(argv[0], argv.slice(1), { env: { ...process.env, REDISCLI_AUTH: password }, encoding: "utf8" }, (error, stdout) => {
      const out = stdout.trim();
      if (error) reject(new Error(`redis-cli in ${host}: ${error.message}`));
      else if (/^(ERR|NOAUTH|WRONGPASS|NOPERM|Could not connect)/.test(out)) reject(new Error(out));
      else resolve(out);
    });
  });
}

/** The master node `host`'s sentinel names, asked from inside `from`'s namespace (default: the host itself). */
export async function sentinelNamesIn(nc: NetCluster, index: number, from = nc.hosts[index]): Promise<string> {
  const node = nc.cluster.nodes[index];
  const reply = await cliIn(nc, from, "sentinel", node.address, node.sentinelPort, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", nc.cluster.masterName);
  return reply.split("\n")[0];
}

/** Node `index`'s role (`master`, `slave`), asked from the controller. */
export async function roleOf(nc: NetCluster, index: number): Promise<string> {
  const node = nc.cluster.nodes[index];
  return withClient(node.address, node.redisPort, nc.cluster.credentials("admin"), async (c) => {
    const reply = (await c.call("ROLE")) as unknown[];
    return String(reply[0]);
  }, 1000);
}

/** Whether node `index` takes a write now (the write probe, from the controller): undefined when it does, else the error. */
export async function refusalOf(nc: NetCluster, index: number): Promise<string | undefined> {
  const node = nc.cluster.nodes[index];
  return withClient(node.address, node.redisPort, nc.cluster.credentials("admin"), (c) => writeRefusal(c), 1000).catch((e) =>
    String((e as Error).message),
  );
}

/** The index of the node at `address`. */
export const indexOf = (nc: NetCluster, address: string): number => nc.cluster.nodes.findIndex((n) => n.address === address);

/** One write a server acknowledged: its key, and when (`Date.now()`). */
export interface Ack {
  readonly key: string;
  readonly at: number;
}

/** A client writing to one node, see `startDirectWriter`. */
export interface DirectWriter {
  /** Stops; resolves with the writes acknowledged, in order, and the errors seen by message. */
  stop(): Promise<{ readonly acks: readonly Ack[]; readonly errors: ReadonlyMap<string, number> }>;
}

/**
 * A client on the controller writing `<prefix>:<n>` to node `index` every `everyMs` (about 100 writes a second),
 * over one connection that it remakes when lost, with 500 ms command timeouts. With `wait`, a write counts as
 * acknowledged only when `WAIT 1 200` says a replica has it; without, when the master answered OK.
 */
export function startDirectWriter(nc: NetCluster, index: number, prefix: string, options: { wait: boolean; everyMs?: number }): DirectWriter {
  const node = nc.cluster.nodes[index];
  const client: Redis = openClient({ host: node.address, port: node.redisPort }, nc.cluster.credentials("app"), {
    commandTimeoutMs: 500,
    connectTimeoutMs: 500,
    reconnectEveryMs: 200,
  });
  const acks: Ack[] = [];
  const errors = new Map<string, number>();
  let stopped = false;
  const loop = (async () => {
    await client.connect().catch(() => undefined);
    for (let i = 0; !stopped; i++) {
      const begun = Date.now();
      const key = `${prefix}:${i}`;
      try {
        await client.set(key, `v${i}`);
        if (!options.wait || Number(await client.call("WAIT", "1", "200")) >= 1) acks.push({ key, at: Date.now() });
      } catch (e) {
        const message = String((e as Error).message).split("\n")[0].replace(/\d+(\.\d+){3}(:\d+)?/g, "<address>");
        errors.set(message, (errors.get(message) ?? 0) + 1);
      }
      await sleep(Math.max(0, (options.everyMs ?? 10) - (Date.now() - begun)));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      closeClient(client);
      return { acks, errors };
    },
  };
}

/** The ioredis options the README's "Connect a client" recommends, on top of sentinels, name and credentials. */
export const RECOMMENDED_IOREDIS: RedisOptions = {
  failoverDetector: true,
  connectTimeout: 1000,
  commandTimeout: 1000,
  sentinelCommandTimeout: 1000,
  retryStrategy: (times) => Math.min(times * 100, 1000),
  reconnectOnError: (e) => (e.message.startsWith("READONLY") ? 2 : false),
};

/**
 * An application on the controller: ioredis in sentinel mode with the recommended options, writing
 * `<prefix>:<n>` every `everyMs`, each confirmed by `WAIT 1 200`. Stops like `startDirectWriter`.
 */
export function startSentinelWaitWriter(nc: NetCluster, prefix: string, everyMs = 10): DirectWriter {
  const { username, password } = nc.cluster.credentials("app");
  const client = new Redis({
    sentinels: nc.cluster.nodes.map((n) => ({ host: n.address, port: n.sentinelPort })),
    name: nc.cluster.masterName,
    ...(username ? { username, sentinelUsername: username } : {}),
    password,
    sentinelPassword: password,
    ...RECOMMENDED_IOREDIS,
  });
  client.on("error", () => undefined);
  const acks: Ack[] = [];
  const errors = new Map<string, number>();
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const begun = Date.now();
      const key = `${prefix}:${i}`;
      try {
        await client.set(key, `v${i}`);
        if (Number(await client.call("WAIT", "1", "200")) >= 1) acks.push({ key, at: Date.now() });
      } catch (e) {
        const message = String((e as Error).message).split("\n")[0].replace(/\d+(\.\d+){3}(:\d+)?/g, "<address>");
        errors.set(message, (errors.get(message) ?? 0) + 1);
      }
      await sleep(Math.max(0, everyMs - (Date.now() - begun)));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      client.disconnect();
      return { acks, errors };
    },
  };
}

/** How many of `keys` node `index` does not hold (asked from the controller). */
export async function missingOn(nc: NetCluster, index: number, keys: readonly string[]): Promise<number> {
  const node = nc.cluster.nodes[index];
  let missing = 0;
  await withClient(node.address, node.redisPort, nc.cluster.credentials("app"), async (c) => {
    for (let i = 0; i < keys.length; i += 500) {
      const values = await c.mget(...keys.slice(i, i + 500));
      missing += values.filter((v) => v === null).length;
    }
  }, 10_000);
  return missing;
}

/** How many replicas confirm a write to node `index` (`SET` of a test key, then `WAIT 1 100`), asked from the controller. */
async function replicasConfirming(nc: NetCluster, index: number): Promise<number> {
  const node = nc.cluster.nodes[index];
  return withClient(node.address, node.redisPort, nc.cluster.credentials("admin"), async (c) => {
    await c.set("partition:confirm-probe", String(Date.now()));
    return Number(await c.call("WAIT", "1", "100"));
  }, 1000);
}

/** What `healAndSettle` saw. */
export interface Settled {
  /** The sentinels' master once healthy. */
  readonly master: number;
  readonly healthyMs: number;
  readonly writableMs: number;
  /** Moments when two nodes took writes at once (other than `staleWrites`): a second master. */
  readonly secondMasters: readonly string[];
  /**
   * When the node cut off (`cutOff`) took writes beside the new master after the heal, no replica confirming them:
   * how many probes saw it, and the first and the last, in ms after the heal.
   */
  readonly staleWrites: { readonly probes: number; readonly firstMs: number; readonly lastMs: number };
}

/**
 * Heals and waits for a healthy cluster, watching every node meanwhile with a write probe: no node but the
 * sentinels' master takes a write, so the old master never comes back as a second master. With `watchMs`, it
 * watches for at least that long after the heal (a failover the sentinels start late) and waits for a healthy
 * cluster again.
 *
 * One exception is measured instead of counted as a second master: `cutOff`, a master cut off from its replicas
 * before a failover, can take writes again for a moment after the heal. A replica's acknowledgements, queued in its
 * stalled connection, arrive when it is retransmitted, and the old master counts that replica as good for
 * `min-replicas-max-lag`, until the connection closes or the sentinels demote it. The replica's acknowledged
 * offset is the one from before the cut, so such a write is never confirmed by `WAIT 1`: that is checked on every
 * such probe (a confirmed write there is a second master; a probe that fails took no write).
 */
export async function healAndSettle(
  nc: NetCluster,
  options: { readonly timeoutMs?: number; readonly watchMs?: number; readonly cutOff?: number } = {},
): Promise<Settled> {
  nc.net.heal();
  const healedAt = Date.now();
  const secondMasters: string[] = [];
  const staleWrites = { probes: 0, firstMs: 0, lastMs: 0 };
  let writableMs: number | undefined;
  let done = false;
  /** The nodes among `candidates` that take a write now, probed at once. */
  const writableOf = async (candidates: readonly number[]) => {
    const writable: number[] = [];
    await Promise.all(
      candidates.map(async (i) => {
        if ((await refusalOf(nc, i)) === undefined) writable.push(i);
      }),
    );
    return writable.sort();
  };
  const watch = (async () => {
    while (!done) {
      const writable = await writableOf(nc.cluster.nodes.map((_, i) => i));
      if (writable.length > 0 && writableMs === undefined) writableMs = Date.now() - healedAt;
      // Probes of different nodes are moments apart: one master handing over to another can answer both. Two
      // masters are only counted when a second probe of both, at once, finds them still taking writes.
      if (writable.length > 1) {
        const again = await writableOf(writable);
        const atMs = Date.now() - healedAt;
        if (again.length > 1) {
          const stale = options.cutOff !== undefined && again.length === 2 && again.includes(options.cutOff);
          const confirmed = stale ? await replicasConfirming(nc, options.cutOff!).catch(() => 0) : undefined;
          if (stale && confirmed === 0) {
            if (staleWrites.probes++ === 0) staleWrites.firstMs = atMs;
            staleWrites.lastMs = atMs;
          } else {
            const how = confirmed === undefined ? "" : ` (node ${options.cutOff}'s write confirmed by ${confirmed} replica(s))`;
            secondMasters.push(`+${atMs} ms: nodes ${again.join(", ")} all take writes${how}`);
          }
        }
      }
      await sleep(100);
    }
  })();
  try {
    let status = await nc.cluster.waitHealthy(options.timeoutMs ?? 90_000);
    const healthyMs = Date.now() - healedAt;
    if (options.watchMs !== undefined) {
      await sleep(healedAt + options.watchMs - Date.now());
      status = await nc.cluster.waitHealthy(options.timeoutMs ?? 90_000);
    }
    done = true;
    await watch;
    const master = indexOf(nc, status.master!.split(":")[0]);
    return { master, healthyMs, writableMs: writableMs ?? healthyMs, secondMasters, staleWrites };
  } finally {
    done = true;
    await watch;
  }
}

/** Prints one figure line, as the README quotes them. */
export const figure = (line: string) => console.log(`figures: ${line}`);
