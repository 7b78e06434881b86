import { fieldsOf, parseInfo } from "../local/client";
import { DEFAULT_MASTER_NAME } from "../spec";
import { writeRefusal } from "./write-probe";
import { connect, formatEndpoint, messageOf, openClient, closeClient, parseEndpoints, withConnection, type Credentials, type Endpoint } from "./connect";

/** What one check looks at; the name CI filters on. */
export type CheckId =
  | "sentinel"
  | "sentinels-agree"
  | "ckquorum"
  | "master"
  | "master-writable"
  | "replicas-online"
  | "replication-lag";

/** One line of the report. */
export interface Check {
  readonly id: CheckId;
  /** The sentinel, master or replica checked, as `host:port`, when the check is about one. */
  readonly target?: string;
  readonly ok: boolean;
  /** What was found, with the numbers. */
  readonly summary: string;
}

/** What one sentinel said. */
export interface SentinelView {
  readonly sentinel: string;
  readonly reachable: boolean;
  readonly error?: string;
  /** The master it names, as `host:port`. */
  readonly master?: string;
  /** Its flags for the master (`master`, `master,s_down`, ...). */
  readonly masterFlags?: string;
  /** Replicas it knows, down ones included (`num-slaves`). */
  readonly knownReplicas?: number;
  readonly otherSentinels?: number;
  readonly quorum?: number;
  /** The reply of `SENTINEL CKQUORUM`, or its error. */
  readonly ckquorum?: string;
  readonly ckquorumOk?: boolean;
}

/** One replica as its master reports it, and how far behind it was measured. */
export interface ReplicaView {
  readonly replica: string;
  /** `state=` in the master's INFO: `online`, `wait_bgsave`, `send_bulk`. */
  readonly state: string;
  /** `lag=`: whole seconds since the replica's last acknowledgement, which it sends every second. */
  readonly lagSeconds: number;
  /** The offset the replica last acknowledged to the master. */
  readonly ackedOffset: number;
  /**
   * Milliseconds the replica took to reach the offset the master had when the check began, read from the replica
   * itself; absent when the replica could not be asked directly (then `lagSeconds` is used).
   */
  readonly caughtUpMs?: number;
  readonly error?: string;
}

export interface VerifyResult {
  /** True when every check passed. */
  readonly ok: boolean;
  readonly masterName: string;
  /** The master the sentinels name (the most named one when they disagree). */
  readonly master?: string;
  readonly masterOffset?: number;
  readonly replicasExpected?: number;
  /** Where `replicasExpected` came from: `--replicas`, or the most replicas any sentinel knows. */
  readonly replicasExpectedFrom?: "option" | "sentinels";
  readonly replicasOnline?: number;
  readonly maxLagSeconds: number;
  readonly sentinels: readonly SentinelView[];
  readonly replicas: readonly ReplicaView[];
  readonly checks: readonly Check[];
  /** The checks that failed, as `id` or `id target`. */
  readonly failed: readonly string[];
  readonly durationMs: number;
}

export interface VerifyOptions {
  /** Every sentinel of the cluster; each must answer. */
  readonly sentinels: readonly Endpoint[];
  /** @default DEFAULT_MASTER_NAME ("mymaster") */
  readonly masterName?: string;
  readonly credentials: Credentials;
  /** Replication lag bound, in seconds. @default DEFAULT_MAX_LAG_SECONDS (1) */
  readonly maxLagSeconds?: number;
  /** Replicas that must be online. @default the most replicas any sentinel knows (down ones included) */
  readonly replicas?: number;
  /** Longest wait for one server's answer. @default 3000 */
  readonly timeoutMs?: number;
  /** Called with each check as it completes, for progress lines. */
  readonly onCheck?: (check: Check) => void;
}

export const DEFAULT_MAX_LAG_SECONDS = 1;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const DOWN_FLAGS = /s_down|o_down/;

async function askSentinel(sentinel: Endpoint, options: VerifyOptions, masterName: string, timeoutMs: number): Promise<SentinelView> {
  const name = formatEndpoint(sentinel);
  try {
    return await withConnection(
      sentinel,
      options.credentials.sentinel,
      async (c) => {
        const master = fieldsOf(await c.call("SENTINEL", "MASTER", masterName));
        let ckquorum: string;
        let ckquorumOk: boolean;
        try {
          ckquorum = String(await c.call("SENTINEL", "CKQUORUM", masterName));
          ckquorumOk = ckquorum.startsWith("OK");
        } catch (e) {
          ckquorum = messageOf(e);
          ckquorumOk = false;
        }
        return {
          sentinel: name,
          reachable: true,
          master: formatEndpoint({ host: master.ip, port: Number(master.port) }),
          masterFlags: master.flags,
          knownReplicas: Number(master["num-slaves"]),
          otherSentinels: Number(master["num-other-sentinels"]),
          quorum: Number(master.quorum),
          ckquorum,
          ckquorumOk,
        };
      },
      timeoutMs,
    );
  } catch (e) {
    return { sentinel: name, reachable: false, error: messageOf(e) };
  }
}

/** `slaveN:ip=...,port=...,state=...,offset=...,lag=...` lines of a master's INFO replication. */
function replicasOf(info: Record<string, string>): Array<{ endpoint: Endpoint; state: string; offset: number; lag: number }> {
  return Object.keys(info)
    .filter((k) => /^slave\d+$/.test(k))
    .map((k) => Object.fromEntries(info[k].split(",").map((kv) => kv.split("=") as [string, string])))
    .map((r) => ({ endpoint: { host: r.ip, port: Number(r.port) }, state: r.state, offset: Number(r.offset), lag: Number(r.lag) }));
}

/** Polls a replica's own offset until it reaches `target`; the time it took, or undefined after `boundMs`. */
async function timeToCatchUp(replica: Endpoint, options: VerifyOptions, target: number, boundMs: number, timeoutMs: number) {
  const client = openClient(replica, options.credentials.redis, { commandTimeoutMs: timeoutMs });
  const started = Date.now();
  try {
    await connect(client);
    for (;;) {
      const info = parseInfo(await client.info("replication"));
      const elapsed = Date.now() - started;
      if (Number(info.slave_repl_offset) >= target) return { caughtUpMs: elapsed, offset: Number(info.slave_repl_offset) };
      if (elapsed > boundMs) return { caughtUpMs: undefined, offset: Number(info.slave_repl_offset) };
      await sleep(20);
    }
  } finally {
    closeClient(client);
  }
}

/**
 * Checks a running cluster through its sentinels, as an operator's post-deploy check: every sentinel answers and
 * names the same master, `SENTINEL CKQUORUM` is OK, the master answers with role master, the expected replicas
 * are online, and each caught up with the master within `maxLagSeconds`; and the master takes a write (a DEL of
 * `WRITE_PROBE_KEY`, which no one writes: no data changes).
 */
export async function verifyCluster(options: VerifyOptions): Promise<VerifyResult> {
  const started = Date.now();
  const masterName = options.masterName ?? DEFAULT_MASTER_NAME;
  const maxLagSeconds = options.maxLagSeconds ?? DEFAULT_MAX_LAG_SECONDS;
  const timeoutMs = options.timeoutMs ?? 3000;
  const checks: Check[] = [];
  const record = (check: Check) => {
    checks.push(check);
    options.onCheck?.(check);
  };

  // Sentinels, all at once.
  const sentinels = await Promise.all(options.sentinels.map((s) => askSentinel(s, options, masterName, timeoutMs)));
  for (const s of sentinels) {
    if (!s.reachable) {
      record({ id: "sentinel", target: s.sentinel, ok: false, summary: `cannot ask it: ${s.error}` });
      continue;
    }
    const down = DOWN_FLAGS.test(s.masterFlags ?? "");
    record({
      id: "sentinel",
      target: s.sentinel,
      ok: !down,
      summary:
        `names master ${s.master}${down ? ` and flags it ${s.masterFlags}` : ""}, knows ${s.knownReplicas} replicas ` +
        `and ${s.otherSentinels} other sentinels, quorum ${s.quorum}`,
    });
  }
  const answering = sentinels.filter((s) => s.reachable);
  const votes = new Map<string, number>();
  for (const s of answering) votes.set(s.master!, (votes.get(s.master!) ?? 0) + 1);
  const ranked = [...votes.entries()].sort((a, b) => b[1] - a[1]);
  const master = ranked[0]?.[0];
  const n = options.sentinels.length;
  if (ranked.length === 0) {
    record({ id: "sentinels-agree", ok: false, summary: `no sentinel of ${n} answers` });
  } else if (ranked.length > 1) {
    record({ id: "sentinels-agree", ok: false, summary: `they disagree: ${ranked.map(([m, c]) => `${c} name ${m}`).join(", ")}` });
  } else {
    record({ id: "sentinels-agree", ok: answering.length === n, summary: `${answering.length} of ${n} name ${master}` });
  }
  const quorumOk = answering.filter((s) => s.ckquorumOk);
  const quorumFailed = answering.filter((s) => !s.ckquorumOk);
  record({
    id: "ckquorum",
    ok: answering.length > 0 && quorumFailed.length === 0,
    summary:
      answering.length === 0
        ? "no sentinel answers"
        : quorumFailed.length === 0
          ? `${quorumOk.length} of ${answering.length} answering sentinels: ${quorumOk[0].ckquorum}`
          : quorumFailed.map((s) => `${s.sentinel}: ${s.ckquorum}`).join("; "),
  });

  const expectedFrom = options.replicas !== undefined ? "option" : answering.length > 0 ? "sentinels" : undefined;
  const replicasExpected = options.replicas ?? (answering.length > 0 ? Math.max(...answering.map((s) => s.knownReplicas!)) : undefined);
  const base = { masterName, master, maxLagSeconds, sentinels, replicasExpected, replicasExpectedFrom: expectedFrom } as const;
  const finish = (extra: Partial<VerifyResult> = {}): VerifyResult => {
    const failed = checks.filter((c) => !c.ok).map((c) => (c.target ? `${c.id} ${c.target}` : c.id));
    return { ...base, replicas: [], ...extra, checks, failed, ok: failed.length === 0, durationMs: Date.now() - started };
  };
  if (!master) {
    record({ id: "master", ok: false, summary: "not checked: no sentinel names a master" });
    return finish();
  }

  // The master.
  const [masterEndpoint] = parseEndpoints(master, 0);
  let info: Record<string, string>;
  let refusal: string | undefined;
  try {
    info = parseInfo(
      await withConnection(
        masterEndpoint,
        options.credentials.redis,
        async (c) => {
          const text = await c.info("replication");
          if (/^role:master\s*$/m.test(text)) refusal = await writeRefusal(c);
          return text;
        },
        timeoutMs,
      ),
    );
  } catch (e) {
    record({ id: "master", target: master, ok: false, summary: `cannot ask it: ${messageOf(e)}` });
    return finish();
  }
  const masterOffset = Number(info.master_repl_offset);
  const listed = replicasOf(info);
  const online = listed.filter((r) => r.state === "online");
  record({
    id: "master",
    target: master,
    ok: info.role === "master",
    summary: `role ${info.role}, ${info.connected_slaves ?? 0} connected replicas, offset ${masterOffset}`,
  });
  if (info.role !== "master") return finish({ masterOffset });
  record({
    id: "master-writable",
    target: master,
    ok: refusal === undefined,
    summary: refusal === undefined ? "takes writes (the write probe deletes a key no one writes)" : `refuses writes: ${refusal}`,
  });

  const source = expectedFrom === "option" ? "--replicas" : "the most any sentinel knows";
  record({
    id: "replicas-online",
    ok: replicasExpected !== undefined && online.length >= replicasExpected,
    summary:
      `${online.length} of ${replicasExpected ?? "?"} expected (${source}) online` +
      (listed.length > online.length ? `; not online: ${listed.filter((r) => r.state !== "online").map((r) => `${formatEndpoint(r.endpoint)} ${r.state}`).join(", ")}` : ""),
  });

  // Lag: how long each online replica takes to reach the offset the master had a moment ago, asked directly;
  // when a replica cannot be asked, the master's whole-second `lag=`.
  const boundMs = maxLagSeconds * 1000;
  const replicas: ReplicaView[] = await Promise.all(
    online.map(async (r) => {
      const view = { replica: formatEndpoint(r.endpoint), state: r.state, lagSeconds: r.lag, ackedOffset: r.offset };
      try {
        const { caughtUpMs } = await timeToCatchUp(r.endpoint, options, masterOffset, boundMs, timeoutMs);
        return { ...view, caughtUpMs };
      } catch (e) {
        return { ...view, error: messageOf(e) };
      }
    }),
  );
  for (const r of replicas) {
    if (r.error !== undefined) {
      record({
        id: "replication-lag",
        target: r.replica,
        ok: r.lagSeconds <= maxLagSeconds,
        summary: `lag=${r.lagSeconds} s in the master's INFO (whole seconds; bound ${maxLagSeconds} s); the replica itself: ${r.error}`,
      });
    } else if (r.caughtUpMs === undefined) {
      record({ id: "replication-lag", target: r.replica, ok: false, summary: `not at the master's offset ${masterOffset} after ${boundMs} ms (lag=${r.lagSeconds} s)` });
    } else {
      record({
        id: "replication-lag",
        target: r.replica,
        ok: r.caughtUpMs < boundMs,
        summary: `at the master's offset ${masterOffset} within ${r.caughtUpMs} ms (bound ${boundMs} ms; lag=${r.lagSeconds} s)`,
      });
    }
  }
  if (online.length === 0) {
    record({ id: "replication-lag", ok: replicasExpected === 0, summary: "no online replica to measure" });
  }
  return finish({ masterOffset, replicasOnline: online.length, replicas });
}

/** One check as a report line: `ok   ` or `FAIL `, the check, what was found. */
export function formatCheck(check: Check): string {
  return `${check.ok ? "ok  " : "FAIL"}  ${check.id}${check.target ? ` ${check.target}` : ""}: ${check.summary}`;
}

/** The last line of a report. */
export function formatVerdict(result: VerifyResult): string {
  return result.ok
    ? `OK: all ${result.checks.length} checks passed in ${result.durationMs} ms`
    : `FAILED: ${result.failed.length} of ${result.checks.length} checks: ${result.failed.join(", ")}`;
}
