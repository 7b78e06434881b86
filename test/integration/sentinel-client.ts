import Redis, { type RedisOptions } from "ioredis";
import type { LocalCluster } from "../../src/local";

/** What a sentinel-aware client saw while it wrote, see `startSentinelClient`. */
export interface SentinelClientReport {
  /** Writes the client reported as done. */
  readonly writes: number;
  /** Errors the client reported, by message (its first line, addresses left out). */
  readonly errors: ReadonlyMap<string, number>;
  /** The longest time between two successive successful writes (from the start, to the stop). */
  readonly longestPauseMs: number;
}

/** A client writing without pause, see `startSentinelClient`. */
export interface SentinelClient {
  /** Whether a write succeeded after `time` (a `Date.now()`). */
  wroteSince(time: number): boolean;
  /** When the first write that succeeded after `time` (a `Date.now()`) did, as a `Date.now()`; undefined if none yet. */
  firstWriteAfter(time: number): number | undefined;
  /** Stops writing and disconnects; resolves with what the client saw. */
  stop(): Promise<SentinelClientReport>;
}

/**
 * Starts an ioredis client in sentinel mode (`sentinels` + `name`, logging in as the application, to the sentinels as
 * well) that writes keys `<prefix>:<n>` one after another, with ioredis's default retry and reconnect settings, as
 * an application would, or with `options` on top; `stop()` ends it and tells what it saw. With `pacing.everyMs`, one
 * write starts every that many ms (errors included) instead of one right after another.
 */
export function startSentinelClient(
  cluster: LocalCluster,
  prefix: string,
  options: RedisOptions = {},
  pacing: { readonly everyMs?: number } = {},
): SentinelClient {
  const { username, password, tls } = cluster.credentials("app");
  const client = new Redis({
    sentinels: cluster.nodes.map((n) => ({ host: n.sentinelAddress ?? n.address, port: n.sentinelPort })),
    name: cluster.masterName,
    ...(username ? { username, sentinelUsername: username } : {}),
    password,
    sentinelPassword: password,
    ...(tls ? { tls, sentinelTLS: tls, enableTLSForSentinelMode: true } : {}),
    ...options,
  });
  client.on("error", () => undefined); // connection errors come back on the commands too; those are what we count
  const errors = new Map<string, number>();
  let writes = 0;
  let longestPauseMs = 0;
  let stopped = false;
  let lastOk = Date.now();
  /** When each write succeeded, in order. */
  const succeeded: number[] = [];
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const begun = Date.now();
      try {
        await client.set(`${prefix}:${i}`, `v${i}`);
        writes++;
        longestPauseMs = Math.max(longestPauseMs, Date.now() - lastOk);
        lastOk = Date.now();
        succeeded.push(lastOk);
      } catch (e) {
        const message = String((e as Error).message).split("\n")[0].replace(/\d+(\.\d+){3}(:\d+)?/g, "<address>");
        errors.set(message, (errors.get(message) ?? 0) + 1);
      }
      const rest = (pacing.everyMs ?? 0) - (Date.now() - begun);
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
    }
    longestPauseMs = Math.max(longestPauseMs, Date.now() - lastOk);
  })();
  return {
    wroteSince: (time) => writes > 0 && lastOk > time,
    firstWriteAfter: (time) => succeeded.find((t) => t > time),
    async stop() {
      stopped = true;
      // A write stuck on a stalled connection (a partition, no commandTimeout) ends when the client disconnects.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([loop, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
      clearTimeout(timer);
      client.disconnect();
      await loop;
      return { writes, errors, longestPauseMs };
    },
  };
}
