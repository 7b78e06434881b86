import { fieldsOf, parseInfo } from "./info";
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
  | "replication-lag"
  | "node";

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
  /** Replicas it knows that are neither down nor disconnected, their link to the master up. */
  readonly replicasOk?: number;
  readonly otherSentinels?: number;
  readonly quorum?: number;
  /** The reply of `SENTINEL CKQUORUM`, or its error. */
  readonly ckquorum?: string;
  readonly ckquorumOk?: boolean;
}

/** One Redis server of `VerifyOptions.nodes`, as it answered `INFO replication`. */
export interface NodeView {
  /** The server, as `host:port`. */
  readonly node: string;
  readonly reachable: boolean;
  readonly error?: string;
  readonly role?: string;
  /** On a replica: its master as `host:port`, and whether the link is up. */
  readonly master?: string;
  readonly linkUp?: boolean;
  readonly offset?: number;
  /** On a master: replicas in state `online`. */
  readonly replicasOnline?: number;
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
  /** Every server of `VerifyOptions.nodes`, in that order (empty without it). */
  readonly nodes: readonly NodeView[];
  /** The error the master answered the write probe with (such as NOREPLICAS); absent when it took the write. */
  readonly masterRefusal?: string;
  readonly checks: readonly Check[];
  /** The checks that failed, as `id` or `id target`. */
  readonly failed: readonly string[];
  readonly durationMs: number;
}

export interface VerifyOptions {
  /** Every sentinel of the cluster; each must answer. */
  readonly sentinels: readonly Endpoint[];
  /**
   * Every Redis server of the cluster, when known (`redis-ha local status` and the tests give them): each must
   * answer, and be the master or its replica with the link up. @default only the servers the master lists
   */
  readonly nodes?: readonly Endpoint[];
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
        const replicas = ((await c.call("SENTINEL", "REPLICAS", masterName)) as unknown[]).map(fieldsOf);
        const replicasOk = replicas.filter((r) => !/s_down|o_down|disconnected/.test(r.flags) && r["master-link-status"] === "ok").length;
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
          replicasOk,
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

async function askNode(node: Endpoint, options: VerifyOptions, timeoutMs: number): Promise<NodeView> {
  const name = formatEndpoint(node);
  try {
    const info = parseInfo(await withConnection(node, options.credentials.redis, (c) => c.info("replication"), timeoutMs));
    if (info.role === "slave") {
      return {
        node: name,
        reachable: true,
        role: info.role,
        master: formatEndpoint({ host: info.master_host, port: Number(info.master_port) }),
        linkUp: info.master_link_status === "up",
        offset: Number(info.slave_repl_offset),
      };
    }
    const online = replicasOf(info).filter((r) => r.state === "online").length;
    return { node: name, reachable: true, role: info.role, offset: Number(info.master_repl_offset), replicasOnline: online };
  } catch (e) {
    return { node: name, reachable: false, error: messageOf(e) };
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
 * Checks a running cluster through its sentinels, as an operator's post-deploy check: every sentinel answers, names
 * the same master, does not flag it down, knows the others that answer and sees the master's online replicas;
 * `SENTINEL CKQUORUM` is OK; the master answers with role master and takes a write (a DEL of `WRITE_PROBE_KEY`,
 * which no one writes: no data changes); the expected replicas are online, and each caught up with the master
 * within `maxLagSeconds`. With `nodes`, every server is also asked itself: the master, or its replica with the link
 * up. This is the one verdict on a cluster: `redis-ha verify`, `redis-ha local status` and the tests use it.
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

  // Every sentinel and every given server, all at once.
  const [sentinels, nodes] = await Promise.all([
    Promise.all(options.sentinels.map((s) => askSentinel(s, options, masterName, timeoutMs))),
    Promise.all((options.nodes ?? []).map((node) => askNode(node, options, timeoutMs))),
  ]);
  const answering = sentinels.filter((s) => s.reachable);
  const votes = new Map<string, number>();
  for (const s of answering) votes.set(s.master!, (votes.get(s.master!) ?? 0) + 1);
  const ranked = [...votes.entries()].sort((a, b) => b[1] - a[1]);
  const master = ranked[0]?.[0];
  const n = options.sentinels.length;
  const expectedFrom = options.replicas !== undefined ? "option" : answering.length > 0 ? "sentinels" : undefined;
  const replicasExpected = options.replicas ?? (answering.length > 0 ? Math.max(...answering.map((s) => s.knownReplicas!)) : undefined);

  // The master, asked before the sentinels are judged: a sentinel must see the replicas the master has online.
  let info: Record<string, string> | undefined;
  let masterError: string | undefined;
  let refusal: string | undefined;
  if (master) {
    try {
      info = parseInfo(
        await withConnection(
          parseEndpoints(master, 0)[0],
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
      masterError = messageOf(e);
    }
  }
  const isMaster = info?.role === "master";
  const listed = info && isMaster ? replicasOf(info) : [];
  const online = listed.filter((r) => r.state === "online");

  for (const s of sentinels) {
    if (!s.reachable) {
      record({ id: "sentinel", target: s.sentinel, ok: false, summary: `cannot ask it: ${s.error}` });
      continue;
    }
    const down = DOWN_FLAGS.test(s.masterFlags ?? "");
    // It must know every other sentinel that answers, and no more than the others listed.
    const peersOk = s.otherSentinels! >= answering.length - 1 && s.otherSentinels! <= n - 1;
    const replicasOk = s.master !== master || s.replicasOk! >= online.length;
    record({
      id: "sentinel",
      target: s.sentinel,
      ok: !down && peersOk && replicasOk,
      summary:
        `names master ${s.master}${down ? ` and flags it ${s.masterFlags}` : ""}, knows ${s.knownReplicas} replicas ` +
        `and ${s.otherSentinels} other sentinels, quorum ${s.quorum}` +
        (replicasOk ? "" : `; sees ${s.replicasOk} replicas up, the master has ${online.length} online`) +
        (peersOk ? "" : `; ${answering.length} sentinels answer and ${n} are listed`),
    });
  }
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

  const base = {
    masterName,
    master,
    maxLagSeconds,
    sentinels,
    nodes,
    replicasExpected,
    replicasExpectedFrom: expectedFrom,
    ...(refusal !== undefined ? { masterRefusal: refusal } : {}),
  } as const;
  const finish = (extra: Partial<VerifyResult> = {}): VerifyResult => {
    if (master && info) judgeNodes();
    const failed = checks.filter((c) => !c.ok).map((c) => (c.target ? `${c.id} ${c.target}` : c.id));
    return { ...base, replicas: [], ...extra, checks, failed, ok: failed.length === 0, durationMs: Date.now() - started };
  };
  // Each given server: the master, or its replica with the link up.
  const judgeNodes = () => {
    for (const node of nodes) {
      if (!node.reachable) {
        record({ id: "node", target: node.node, ok: false, summary: `cannot ask it: ${node.error}` });
      } else if (node.node === master) {
        record({ id: "node", target: node.node, ok: node.role === "master", summary: `the master the sentinels name; role ${node.role}` });
      } else if (node.role === "slave") {
        const ok = node.master === master && node.linkUp === true;
        record({ id: "node", target: node.node, ok, summary: `replica of ${node.master}, link ${node.linkUp ? "up" : "down"}, offset ${node.offset}` });
      } else {
        record({ id: "node", target: node.node, ok: false, summary: `role ${node.role}: not a replica of ${master}` });
      }
    }
  };
  if (!master) {
    record({ id: "master", ok: false, summary: "not checked: no sentinel names a master" });
    return finish();
  }
  if (!info) {
    record({ id: "master", target: master, ok: false, summary: `cannot ask it: ${masterError}` });
    return finish();
  }
  const masterOffset = Number(info.master_repl_offset);
  record({
    id: "master",
    target: master,
    ok: isMaster,
    summary: `role ${info.role}, ${info.connected_slaves ?? 0} connected replicas, offset ${masterOffset}`,
  });
  if (!isMaster) return finish({ masterOffset });
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
