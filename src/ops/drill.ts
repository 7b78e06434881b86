import { randomBytes } from "node:crypto";
import type Redis from "ioredis";
import { fieldsOf, parseInfo } from "../local/client";
import { DEFAULT_MASTER_NAME } from "../spec";
import {
  closeClient,
  connect,
  formatEndpoint,
  masterNamedBy,
  messageOf,
  openClient,
  withConnection,
  type Credentials,
  type Endpoint,
} from "./connect";

/** What a `Killer` did, and how to undo it once the drill has its numbers. */
export interface Kill {
  readonly description: string;
  /** Brings the killed server back; resolves with what it did. */
  readonly restart?: () => Promise<string>;
}

/** Takes the master down unplanned (a SIGKILL, a stopped VM); the drill then waits for the sentinels to notice. */
export type Killer = (master: Endpoint) => Promise<Kill>;

export interface DrillOptions {
  /** Every sentinel of the cluster. */
  readonly sentinels: readonly Endpoint[];
  /** @default DEFAULT_MASTER_NAME ("mymaster") */
  readonly masterName?: string;
  readonly credentials: Credentials;
  /** An unplanned failure to cause instead of `SENTINEL FAILOVER`. @default none: ask a sentinel for a failover */
  readonly kill?: Killer;
  /**
   * For `SENTINEL FAILOVER`: pause writes on the master around it, as the rendered preStop script does (CLIENT
   * PAUSE WRITE, a replica catches up, SENTINEL FAILOVER, the old master follows the new one, CLIENT UNPAUSE).
   * Without the pause, writes the old master takes after the promotion are acknowledged by a replica that then
   * resynchronises from the new master and drops them: Sentinel alone loses acknowledged writes. @default true
   */
  readonly pauseWrites?: boolean;
  /** Longest wait from the trigger to a new master accepting a write. @default 60000 */
  readonly timeoutMs?: number;
  /** Writing before the trigger. @default 1000 */
  readonly warmUpMs?: number;
  /** Writing on after the new master accepted its first write. @default 1000 */
  readonly writeOnMs?: number;
  /**
   * Longest wait, after the new master, for as many replicas online as before, every sentinel naming it, and no
   * sentinel still failing over. @default 60000
   */
  readonly healTimeoutMs?: number;
  /** Progress lines. @default silent */
  readonly log?: (line: string) => void;
}

/** A message a sentinel published (`+sdown`, `+switch-master`, ...). */
export interface SentinelEvent {
  /** Milliseconds from the trigger (negative: before it). */
  readonly atMs: number;
  readonly sentinel: string;
  readonly event: string;
  readonly detail: string;
}

export interface DrillWrites {
  /** Writes tried (SET with a 1 h expiry, then WAIT 1 1000). */
  readonly attempted: number;
  /** Writes a replica acknowledged (WAIT 1 returned 1 or more): these must survive the failover. */
  readonly acknowledged: number;
  /** Writes the master accepted but no replica acknowledged within 1 s. */
  readonly unacknowledged: number;
  /** Writes refused or not answered (no master, READONLY, NOREPLICAS, a closed connection). */
  readonly failed: number;
  /** Acknowledged writes the master did not return afterwards. */
  readonly lost: number;
  /** The first few lost keys. */
  readonly lostKeys: readonly string[];
  /** Every key starts with this; each expires after an hour. */
  readonly keyPrefix: string;
  /** The longest one write (asking a sentinel, SET, WAIT) took. */
  readonly longestWriteMs: number;
}

export interface DrillResult {
  /** True when a new master accepted writes in time, no acknowledged write was lost, and the cluster healed. */
  readonly ok: boolean;
  readonly masterName: string;
  readonly trigger: "sentinel-failover" | "paused-sentinel-failover" | "kill";
  /** Which sentinel accepted `SENTINEL FAILOVER`, or what was killed. */
  readonly triggerDetail?: string;
  readonly oldMaster?: string;
  readonly newMaster?: string;
  /** From the trigger until a sentinel first named another master. */
  readonly newMasterNamedMs?: number;
  /** From the trigger until another master accepted a write. */
  readonly writableMs?: number;
  /** From the trigger until a replica acknowledged a write to the new master. */
  readonly acknowledgedMs?: number;
  readonly restarted?: string;
  /**
   * From the trigger until as many replicas were online as before the drill, and every answering sentinel named
   * the new master with its failover finished.
   */
  readonly healedMs?: number;
  readonly replicasBefore?: number;
  readonly replicasAfter?: number;
  readonly writes: DrillWrites;
  /** What the sentinels published, in order of arrival. */
  readonly events: readonly SentinelEvent[];
  readonly problems: readonly string[];
  readonly durationMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes keys one after another to whichever master the sentinels name, each confirmed with WAIT 1, as an
 * application following the sentinels would. Keeps one connection to a sentinel and one to the master.
 */
class Writer {
  readonly acknowledged = new Map<string, string>();
  attempted = 0;
  unacknowledged = 0;
  failed = 0;
  longestWriteMs = 0;
  lastError = "";
  /** Each time a sentinel named a master, and each accepted and acknowledged write: for the failover times. */
  readonly named: Array<{ at: number; master: string }> = [];
  readonly accepted: Array<{ at: number; master: string; acknowledged: boolean }> = [];
  private stopped = false;
  private readonly loop: Promise<void>;
  private sentinel?: Redis;
  private sentinelIndex = 0;
  private master?: Redis;
  private masterAt?: string;

  constructor(
    private readonly options: DrillOptions,
    private readonly masterName: string,
    readonly keyPrefix: string,
  ) {
    this.loop = this.run();
  }

  private async askSentinel(): Promise<Endpoint | undefined> {
    const { sentinels, credentials } = this.options;
    for (let tries = 0; tries < sentinels.length; tries++) {
      try {
        if (!this.sentinel) {
          this.sentinel = openClient(sentinels[this.sentinelIndex], credentials.sentinel);
          await connect(this.sentinel);
        }
        return await masterNamedBy(this.sentinel, this.masterName);
      } catch (e) {
        this.lastError = `sentinel ${formatEndpoint(sentinels[this.sentinelIndex])}: ${messageOf(e)}`;
        if (this.sentinel) closeClient(this.sentinel);
        this.sentinel = undefined;
        this.sentinelIndex = (this.sentinelIndex + 1) % sentinels.length;
      }
    }
    return undefined;
  }

  private dropMaster(): void {
    if (this.master) closeClient(this.master);
    this.master = undefined;
  }

  private async run(): Promise<void> {
    for (let i = 0; !this.stopped; i++) {
      const started = Date.now();
      const named = await this.askSentinel();
      if (!named) {
        await sleep(100);
        continue;
      }
      const at = formatEndpoint(named);
      this.named.push({ at: Date.now(), master: at });
      const key = `${this.keyPrefix}:${i}`;
      const value = `v${i}`;
      this.attempted++;
      try {
        if (at !== this.masterAt) this.dropMaster();
        if (!this.master) {
          this.masterAt = at;
          this.master = openClient(named, this.options.credentials.redis, { commandTimeoutMs: 3000 });
          await connect(this.master);
        }
        await this.master.set(key, value, "EX", 3600);
        const acceptedAt = Date.now();
        const acknowledged = Number(await this.master.call("WAIT", "1", "1000")) >= 1;
        this.accepted.push({ at: acceptedAt, master: at, acknowledged });
        if (acknowledged) this.acknowledged.set(key, value);
        else this.unacknowledged++;
      } catch (e) {
        this.failed++;
        this.lastError = `master ${at}: ${messageOf(e)}`;
        this.dropMaster();
        await sleep(50);
      }
      this.longestWriteMs = Math.max(this.longestWriteMs, Date.now() - started);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    this.dropMaster();
    if (this.sentinel) closeClient(this.sentinel);
  }
}

/** Subscribes to every sentinel's events (PSUBSCRIBE *), reconnecting when a sentinel drops. */
async function subscribe(options: DrillOptions, events: Array<Omit<SentinelEvent, "atMs"> & { at: number }>, problems: string[]) {
  const clients = await Promise.all(
    options.sentinels.map(async (sentinel) => {
      const name = formatEndpoint(sentinel);
      const client = openClient(sentinel, options.credentials.sentinel, { reconnectEveryMs: 500 });
      client.on("pmessage", (_pattern: string, channel: string, message: string) =>
        events.push({ at: Date.now(), sentinel: name, event: channel, detail: message }),
      );
      try {
        await connect(client);
        await client.psubscribe("*");
      } catch (e) {
        problems.push(`sentinel ${name}: could not subscribe to its events: ${messageOf(e)}`);
      }
      return client;
    }),
  );
  return () => clients.forEach(closeClient);
}

async function askSentinels(options: DrillOptions, masterName: string): Promise<Array<string | undefined>> {
  return (await sentinelViews(options, masterName)).map((v) => v?.master);
}

/** Each sentinel's master and whether it is still failing it over (`failover_in_progress`); undefined when it does not answer. */
async function sentinelViews(options: DrillOptions, masterName: string) {
  return Promise.all(
    options.sentinels.map((s) =>
      withConnection(s, options.credentials.sentinel, async (c) => {
        const m = fieldsOf(await c.call("SENTINEL", "MASTER", masterName));
        return { master: formatEndpoint({ host: m.ip, port: Number(m.port) }), failingOver: m.flags.includes("failover_in_progress") };
      }).catch(() => undefined),
    ),
  );
}

async function onlineReplicas(master: Endpoint, options: DrillOptions): Promise<number> {
  const info = parseInfo(await withConnection(master, options.credentials.redis, (c) => c.info("replication")));
  if (info.role !== "master") throw new Error(`role ${info.role}`);
  return Object.keys(info).filter((k) => /^slave\d+$/.test(k) && info[k].includes("state=online")).length;
}

/** What a planned trigger did, or why it did nothing. */
interface TriggerOutcome {
  readonly detail?: string;
  readonly problem?: string;
}

/** Asks the sentinels in turn for `SENTINEL FAILOVER` until one accepts. */
async function sentinelFailover(
  options: DrillOptions,
  masterName: string,
  _master: Endpoint,
  log: (line: string) => void,
): Promise<TriggerOutcome> {
  for (const sentinel of options.sentinels) {
    const reply = await withConnection(sentinel, options.credentials.sentinel, (c) => c.call("SENTINEL", "FAILOVER", masterName)).then(
      String,
      (e) => messageOf(e),
    );
    if (reply === "OK") return { detail: `SENTINEL FAILOVER ${masterName} accepted by ${formatEndpoint(sentinel)}` };
    log(`SENTINEL FAILOVER refused by ${formatEndpoint(sentinel)}: ${reply}`);
  }
  return { problem: "no sentinel accepted SENTINEL FAILOVER" };
}

/** How long writes may stay paused on the master during a paused failover; the pause lifts earlier when done. */
const PAUSE_MS = 30_000;

/**
 * A planned hand-over, as the rendered preStop script does it: pause writes on the master (clients wait, none is
 * refused), wait until a replica has everything the master has, SENTINEL FAILOVER, wait until a sentinel names
 * the new master, make the old master its replica, and lift the pause (writes held there then get READONLY).
 */
async function pausedFailover(
  options: DrillOptions,
  masterName: string,
  master: Endpoint,
  log: (line: string) => void,
): Promise<TriggerOutcome> {
  const admin = openClient(master, options.credentials.redis, { commandTimeoutMs: 3000 });
  try {
    await connect(admin);
    await admin.call("CLIENT", "PAUSE", String(PAUSE_MS), "WRITE");
    try {
      const target = Number(parseInfo(await admin.info("replication")).master_repl_offset);
      for (const until = Date.now() + 5000; ; await sleep(50)) {
        const info = parseInfo(await admin.info("replication"));
        const best = Math.max(-1, ...Object.keys(info).filter((k) => /^slave\d+$/.test(k)).map((k) => Number(/offset=(\d+)/.exec(info[k])?.[1])));
        if (best >= target) break;
        if (Date.now() > until) return { problem: `writes paused, but no replica reached the master's offset ${target} within 5 s; nothing was failed over` };
      }
      const asked = await sentinelFailover(options, masterName, master, log);
      if (asked.problem) return asked;
      for (const until = Date.now() + PAUSE_MS - 5000; ; await sleep(50)) {
        const named = (await askSentinels(options, masterName)).find((m) => m !== undefined && m !== formatEndpoint(master));
        if (named) {
          const next = endpointOf(named);
          await admin.call("REPLICAOF", next.host, String(next.port));
          return { detail: `writes paused on ${formatEndpoint(master)} until a replica caught up; ${asked.detail}; ${formatEndpoint(master)} follows ${named}` };
        }
        if (Date.now() > until) return { problem: `${asked.detail}, but no sentinel named a new master while writes were paused` };
      }
    } finally {
      await admin.call("CLIENT", "UNPAUSE").catch(() => undefined);
    }
  } catch (e) {
    return { problem: `the paused failover on ${formatEndpoint(master)} failed: ${messageOf(e)}` };
  } finally {
    closeClient(admin);
  }
}

const endpointOf = (address: string): Endpoint => {
  const at = address.lastIndexOf(":");
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ""), port: Number(address.slice(at + 1)) };
};

/**
 * A failover drill against a running cluster: writes without pause, has the sentinels fail the master over
 * (`SENTINEL FAILOVER`, or `options.kill`), and measures the time to a writable new master, the acknowledged
 * writes lost (every one read back from the new master), whether the cluster heals, and the sentinels' events.
 */
export async function drill(options: DrillOptions): Promise<DrillResult> {
  const started = Date.now();
  const masterName = options.masterName ?? DEFAULT_MASTER_NAME;
  const log = options.log ?? (() => undefined);
  const problems: string[] = [];
  const rawEvents: Array<Omit<SentinelEvent, "atMs"> & { at: number }> = [];
  const keyPrefix = `redis-ha-drill:${new Date().toISOString().replace(/[-:.]/g, "")}-${randomBytes(3).toString("hex")}`;
  const trigger = options.kill ? "kill" : options.pauseWrites === false ? "sentinel-failover" : "paused-sentinel-failover";
  let triggeredAt = Date.now();
  let writer: Writer | undefined;
  let unsubscribe: (() => void) | undefined;
  let kill: Kill | undefined;
  /** Restarts what was killed, once: after the new master, or on the way out when the drill fails first. */
  const restart = async () => {
    const again = kill?.restart;
    if (!again || out.restarted) return;
    out.restarted = await again();
    log(`Restart: ${out.restarted}`);
  };
  const out: { -readonly [K in keyof DrillResult]?: DrillResult[K] } = {};
  const lostKeys: string[] = [];

  const result = (): DrillResult => {
    return {
      masterName,
      trigger,
      ...out,
      writes: {
        attempted: writer?.attempted ?? 0,
        acknowledged: writer?.acknowledged.size ?? 0,
        unacknowledged: writer?.unacknowledged ?? 0,
        failed: writer?.failed ?? 0,
        lost: lostKeys.length,
        lostKeys: lostKeys.slice(0, 10),
        keyPrefix,
        longestWriteMs: writer?.longestWriteMs ?? 0,
      },
      events: rawEvents.map(({ at, ...e }) => ({ atMs: at - triggeredAt, ...e })),
      problems,
      ok: problems.length === 0,
      durationMs: Date.now() - started,
    };
  };

  try {
    const asked = await Promise.all(
      options.sentinels.map((s) =>
        withConnection(s, options.credentials.sentinel, async (c) => {
          const m = fieldsOf(await c.call("SENTINEL", "MASTER", masterName));
          return { master: formatEndpoint({ host: m.ip, port: Number(m.port) }) };
        }).catch((e: unknown) => ({ master: undefined, error: `${formatEndpoint(s)}: ${messageOf(e)}` })),
      ),
    );
    const answers = asked.map((a) => a.master).filter((m): m is string => m !== undefined);
    if (answers.length === 0) {
      // Say why: connection refused, a wrong password, an unknown master name.
      const errors = asked.flatMap((a) => ("error" in a && a.error ? [a.error] : []));
      problems.push(`no sentinel of ${options.sentinels.length} names a master for "${masterName}": ${errors.join("; ")}`);
      return result();
    }
    if (new Set(answers).size > 1) {
      problems.push(`the sentinels disagree on the master (${answers.join(", ")}): run redis-ha verify first`);
      return result();
    }
    const oldMaster = answers[0];
    out.oldMaster = oldMaster;
    out.replicasBefore = await onlineReplicas(endpointOf(oldMaster), options).catch((e) => {
      problems.push(`master ${oldMaster}: ${messageOf(e)}`);
      return undefined;
    });
    if (out.replicasBefore === undefined) return result();
    log(`Drill on "${masterName}": master ${oldMaster} with ${out.replicasBefore} replicas online, ${answers.length} of ${options.sentinels.length} sentinels answering`);

    unsubscribe = await subscribe(options, rawEvents, problems);
    writer = new Writer(options, masterName, keyPrefix);
    await sleep(options.warmUpMs ?? 1000);
    if (writer.acknowledged.size === 0) {
      problems.push(`no write acknowledged before the trigger (${writer.attempted} tried; last error: ${writer.lastError || "none"}); nothing was failed over`);
      return result();
    }
    log(`Writing: ${writer.acknowledged.size} writes acknowledged by a replica (WAIT 1) before the trigger`);

    triggeredAt = Date.now();
    if (options.kill) {
      kill = await options.kill(endpointOf(oldMaster));
      out.triggerDetail = kill.description;
      log(`Trigger: ${kill.description}`);
    } else {
      const failover = trigger === "paused-sentinel-failover" ? pausedFailover : sentinelFailover;
      const outcome = await failover(options, masterName, endpointOf(oldMaster), log);
      if (outcome.problem) {
        problems.push(outcome.problem);
        return result();
      }
      out.triggerDetail = outcome.detail;
      log(`Trigger: ${out.triggerDetail}`);
    }

    // A new master: the first write another master accepted after the trigger.
    const deadline = triggeredAt + (options.timeoutMs ?? 60_000);
    let firstAccepted: { at: number; master: string } | undefined;
    while (!firstAccepted && Date.now() < deadline) {
      await sleep(20);
      firstAccepted = writer.accepted.find((w) => w.at >= triggeredAt && w.master !== oldMaster);
    }
    const firstNamed = writer.named.find((w) => w.at >= triggeredAt && w.master !== oldMaster);
    if (firstNamed) out.newMasterNamedMs = firstNamed.at - triggeredAt;
    if (!firstAccepted) {
      problems.push(
        `no new master accepted a write within ${(options.timeoutMs ?? 60_000) / 1000} s of the trigger` +
          (firstNamed ? ` (the sentinels named ${firstNamed.master} after ${out.newMasterNamedMs} ms)` : " (no sentinel named another master)") +
          `; last error: ${writer.lastError}`,
      );
    } else {
      out.newMaster = firstAccepted.master;
      out.writableMs = firstAccepted.at - triggeredAt;
      log(`New master ${out.newMaster}: named by a sentinel after ${out.newMasterNamedMs} ms, accepted a write after ${out.writableMs} ms`);
      await sleep(options.writeOnMs ?? 1000);
    }
    await writer.stop();
    const firstAcknowledged = writer.accepted.find((w) => w.at >= triggeredAt && w.master === out.newMaster && w.acknowledged);
    if (firstAcknowledged) out.acknowledgedMs = firstAcknowledged.at - triggeredAt;
    log(
      `Stopped writing: ${writer.attempted} writes, ${writer.acknowledged.size} acknowledged, ${writer.unacknowledged} unacknowledged, ` +
        `${writer.failed} refused or failed; longest write ${writer.longestWriteMs} ms`,
    );

    await restart();

    // Healed: as many replicas online as before, and every answering sentinel naming one master.
    if (out.newMaster) {
      const healBy = Date.now() + (options.healTimeoutMs ?? 60_000);
      let last = "";
      for (;;) {
        const views = (await sentinelViews(options, masterName)).filter((v) => v !== undefined);
        const nowNamed = views.map((v) => v.master);
        const agreed = nowNamed.length > 0 && new Set(nowNamed).size === 1 ? nowNamed[0] : undefined;
        const failingOver = views.some((v) => v.failingOver);
        const online = agreed ? await onlineReplicas(endpointOf(agreed), options).catch(() => undefined) : undefined;
        last = agreed
          ? `${online ?? "?"} of ${out.replicasBefore} replicas online at ${agreed}${failingOver ? ", a sentinel still finishing the failover" : ""}`
          : `sentinels name ${nowNamed.join(", ") || "nothing"}`;
        if (agreed && !failingOver && online !== undefined && online >= out.replicasBefore) {
          out.healedMs = Date.now() - triggeredAt;
          out.replicasAfter = online;
          if (agreed !== out.newMaster) log(`Note: the sentinels name ${agreed} now, not ${out.newMaster}`);
          out.newMaster = agreed;
          log(`Healed after ${out.healedMs} ms: ${last}, every answering sentinel names it and none is failing over`);
          break;
        }
        if (Date.now() > healBy) {
          problems.push(`not healed within ${(options.healTimeoutMs ?? 60_000) / 1000} s: ${last}`);
          break;
        }
        await sleep(250);
      }

      // Every acknowledged write, read back from the master.
      const keys = [...writer.acknowledged.keys()];
      const lost = lostKeys;
      await withConnection(
        endpointOf(out.newMaster),
        options.credentials.redis,
        async (c) => {
          for (let i = 0; i < keys.length; i += 500) {
            const chunk = keys.slice(i, i + 500);
            const values = await c.mget(...chunk);
            chunk.forEach((k, j) => values[j] !== writer!.acknowledged.get(k) && lost.push(k));
          }
        },
        10_000,
      ).catch((e) => problems.push(`could not read the acknowledged writes back from ${out.newMaster}: ${messageOf(e)}`));
      log(`Read back ${keys.length} acknowledged writes from ${out.newMaster}: ${lost.length} lost`);
      if (lost.length > 0) problems.push(`${lost.length} of ${keys.length} acknowledged writes lost, such as ${lost.slice(0, 3).join(", ")}`);
    }
    return result();
  } finally {
    await writer?.stop();
    await restart();
    // A moment for the last events in flight.
    if (unsubscribe) {
      await sleep(100);
      unsubscribe();
    }
  }
}

const TRIGGERS = {
  kill: "unplanned: the master killed",
  "sentinel-failover": "planned: SENTINEL FAILOVER, writes not paused",
  "paused-sentinel-failover": "planned: SENTINEL FAILOVER with writes paused",
} as const;

/** A drill's report for people: the numbers, the sentinels' events with their offsets, and the verdict. */
export function formatDrill(result: DrillResult): string {
  const w = result.writes;
  const ms = (n: number | undefined) => (n === undefined ? "-" : `${n} ms`);
  const lines = [
    "",
    `Drill "${result.masterName}" (${TRIGGERS[result.trigger]}): ${result.oldMaster ?? "?"} -> ${result.newMaster ?? "no new master"}`,
    `  ${result.newMaster ? "ok  " : "FAIL"}  new master: named after ${ms(result.newMasterNamedMs)}, writable after ${ms(result.writableMs)}, first acknowledged write after ${ms(result.acknowledgedMs)}`,
    `  ${w.lost === 0 && result.newMaster ? "ok  " : "FAIL"}  acknowledged writes lost: ${w.lost} of ${w.acknowledged} (${w.attempted} written, ${w.unacknowledged} unacknowledged, ${w.failed} refused or failed; longest write ${w.longestWriteMs} ms)`,
    `  ${result.healedMs !== undefined ? "ok  " : "FAIL"}  healed: ${result.healedMs !== undefined ? `${result.replicasAfter} of ${result.replicasBefore} replicas online after ${result.healedMs} ms` : "no"}`,
    "",
    "Sentinel events (ms from the trigger):",
    ...result.events.map((e) => `  ${String(e.atMs >= 0 ? `+${e.atMs}` : e.atMs).padStart(7)}  ${e.sentinel}  ${e.event} ${e.detail}`),
    "",
    result.ok ? "OK: the drill passed" : `FAILED:\n${result.problems.map((p) => `  - ${p}`).join("\n")}`,
  ];
  return lines.join("\n");
}
