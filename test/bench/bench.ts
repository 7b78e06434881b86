// `npm run bench`: speed figures, printed as a table; never asserted. Real processes on 127.0.20.11-13 only.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalCluster, localAddresses, withClient } from "../../src/local";
import { renderPreStopScript } from "../../src/render";
import { parseSpec } from "../../src/spec";
import { killMaster, restartAsReplica, startWriter } from "../integration/failover-checks";
import { countSynthesized, totalCount, type StackCounts } from "./bare-app";
import { startSentinelClient, type SentinelClientReport } from "../integration/sentinel-client";

const root = path.join(__dirname, "..", "..");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows: string[][] = [];
const row = (...cells: (string | number)[]) => rows.push(cells.map(String));

const SYNTH_CHILD = path.join(__dirname, "synth-child.ts");
const TIME = "/usr/bin/time";

/** One synthesis in a fresh process (see synth-child.ts): wall time of the process, build + synth time, peak RSS. */
interface SynthRun {
  readonly wallMs: number;
  readonly synthMs: number;
  readonly rssMb: number;
}

function synthOnce(mode: string, ...args: string[]): SynthRun {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-synth-"));
  try {
    const node = [process.execPath, "--require", "tsx/cjs", SYNTH_CHILD, mode, ...args, outdir];
    const [command, ...rest] = fs.existsSync(TIME) ? [TIME, "-v", ...node] : node;
    const started = process.hrtime.bigint();
    const result = spawnSync(command, rest, { cwd: root, encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) throw new Error(`synthesis (${mode} ${args.join(" ")}) failed: ${result.stderr}`);
    const { synthMs, maxRssKb } = JSON.parse(result.stdout.trim().split("\n").pop()!);
    const timed = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr)?.[1];
    return { wallMs, synthMs, rssMb: Number(timed ?? maxRssKb) / 1024 };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

const medianOf = (runs: readonly SynthRun[]) => ({
  wallMs: median(runs.map((r) => r.wallMs)),
  synthMs: median(runs.map((r) => r.synthMs)),
  rssMb: median(runs.map((r) => r.rssMb)),
});
const ms = (x: number) => `${x.toFixed(0)} ms`;
const mb = (x: number) => `${x.toFixed(0)} MB`;

/**
 * The example stacks against a bare cdktf app with the same stacks, resource types and counts (bare-app.ts), each
 * in fresh processes, interleaved so that both see the same load; a first run of each is a warm-up, not counted.
 */
function synthesisAgainstBare(runs = 5) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-examples-"));
  const countsFile = path.join(outdir, "counts.json");
  let stacks: StackCounts[];
  try {
    const script = `require("./stacks/app").buildApp(undefined, new (require("cdktf").App)({ outdir: ${JSON.stringify(outdir)} })).synth();`;
    const result = spawnSync(process.execPath, ["--require", "tsx/cjs", "-e", script], { cwd: root, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`synthesis of the example stacks failed: ${result.stderr}`);
    stacks = countSynthesized(outdir);
    fs.writeFileSync(countsFile, JSON.stringify(stacks));
    synthOnce("bare", countsFile);
    const examples: SynthRun[] = [];
    const bare: SynthRun[] = [];
    for (let i = 0; i < runs; i++) {
      examples.push(synthOnce("examples"));
      bare.push(synthOnce("bare", countsFile));
    }
    const ours = medianOf(examples);
    const floor = medianOf(bare);
    const what = `${stacks.length} stacks, ${totalCount(stacks)} resources and data sources`;
    row(`synthesis of the example stacks (${what}), fresh process, median of ${runs}`, `wall ${ms(ours.wallMs)}, of which build + synth ${ms(ours.synthMs)}`, `peak RSS ${mb(ours.rssMb)}`);
    row(`bare cdktf app, same stacks and resources by type (deep imports), fresh process, median of ${runs}`, `wall ${ms(floor.wallMs)}, of which build + synth ${ms(floor.synthMs)}`, `peak RSS ${mb(floor.rssMb)}`);
    const wall = ours.wallMs / floor.wallMs;
    const rss = ours.rssMb / floor.rssMb;
    const met = wall <= 1.5 && rss <= 1.5 && ours.rssMb < 200;
    row(
      "example stacks / bare app (target: within 1.5x, under 200 MB)",
      `wall ${wall.toFixed(2)}x, build + synth ${(ours.synthMs / floor.synthMs).toFixed(2)}x`,
      `peak RSS ${rss.toFixed(2)}x, ${mb(ours.rssMb)}: target ${met ? "met" : "missed"}`,
    );
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** 1, 10 and 50 EC2 clusters in one app, one Ec2RedisSentinelStack each (environments.ts), each count in fresh processes. */
function synthesisAsEnvironmentsGrow(counts = [1, 10, 50], runs = 3) {
  synthOnce("clusters", "1");
  for (const n of counts) {
    const m = medianOf(Array.from({ length: runs }, () => synthOnce("clusters", String(n))));
    row(
      `synthesis of ${n} cluster${n > 1 ? "s" : ""} in one app (a stack and environment each), fresh process, median of ${runs}`,
      `build + synth ${ms(m.synthMs)}, ${ms(m.synthMs / n)} per cluster (wall ${ms(m.wallMs)})`,
      `peak RSS ${mb(m.rssMb)}`,
    );
  }
}

async function unplannedFailover(cluster: LocalCluster, runs = 5) {
  const times: number[] = [];
  let lost = 0;
  for (let run = 0; run < runs; run++) {
    const status = await cluster.waitHealthy(60_000);
    const index = cluster.nodes.findIndex((n) => `${n.address}:${n.redisPort}` === status.master);
    const failover = await killMaster(cluster, index, 100);
    times.push(failover.killToWritableMs);
    lost += [...failover.acknowledged.values()].filter((v, i) => failover.readBack[i] !== v).length;
    await restartAsReplica(cluster, index, failover.newMaster);
  }
  row(
    `unplanned failover, kill -9 of the master (down-after 5000 ms), ${runs} runs`,
    `to a writable master: median ${median(times)} ms, max ${Math.max(...times)} ms`,
    `acknowledged writes lost: ${lost}`,
  );
}

async function plannedFailover(cluster: LocalCluster, addresses: string[], runs = 3) {
  const config = parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } });
  const password = cluster.credentials("app");
  const waits: number[] = [];
  let lost = 0;
  for (let run = 0; run < runs; run++) {
    const status = await cluster.waitHealthy(60_000);
    const index = cluster.nodes.findIndex((n) => `${n.address}:${n.redisPort}` === status.master);
    const script = path.join(cluster.dir, `prestop-${index}.sh`);
    fs.writeFileSync(script, renderPreStopScript(config, { addresses }, index));
    const writer = startWriter(cluster, `p${run}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const child = spawn("bash", [script], { env: { PATH: process.env.PATH, REDIS_HA_SECRETS_DIR: path.join(cluster.dir, "secrets") } });
    await new Promise((resolve) => child.on("close", resolve));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { acknowledged, longestWaitMs } = await writer.stop();
    const master = (await cluster.waitHealthy(60_000)).master!.split(":")[0];
    const values = await withClient(master, 6379, password, (c) => c.mget(...acknowledged.keys()));
    lost += [...acknowledged.values()].filter((v, i) => values[i] !== v).length;
    waits.push(longestWaitMs);
  }
  row(`planned failover, preStop hand-over with a client writing (WAIT 1), ${runs} runs`, `longest write wait: median ${median(waits)} ms, max ${Math.max(...waits)} ms`, `acknowledged writes lost: ${lost}`);
}

/** ioredis's documented way to follow a demoted master: reconnect (asking the sentinels again) and resend on READONLY. */
const reconnectOnReadonly = (e: Error) => (e.message.startsWith("READONLY") ? 2 : false);

/**
 * The planned failover as Kubernetes runs it: the master's preStop, then SIGTERM to its Redis, then the node back as
 * a replica; meanwhile two ioredis clients in sentinel mode write without pause, one with ioredis's defaults and one
 * that also reconnects on READONLY. Counts the errors each saw and its longest pause between two writes.
 */
async function plannedFailoverSentinelClients(cluster: LocalCluster, addresses: string[], runs = 3) {
  const config = parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } });
  const variants = [
    { label: "ioredis defaults", options: {} },
    { label: "ioredis with reconnectOnError on READONLY", options: { reconnectOnError: reconnectOnReadonly } },
  ];
  const reports: SentinelClientReport[][] = variants.map(() => []);
  for (let run = 0; run < runs; run++) {
    const status = await cluster.waitHealthy(60_000);
    const index = cluster.nodes.findIndex((n) => `${n.address}:${n.redisPort}` === status.master);
    const script = path.join(cluster.dir, `prestop-${index}.sh`);
    fs.writeFileSync(script, renderPreStopScript(config, { addresses }, index));
    const clients = variants.map((v, i) => startSentinelClient(cluster, `s${run}-${i}`, v.options));
    try {
      await sleep(300);
      const child = spawn("bash", [script], { env: { PATH: process.env.PATH, REDIS_HA_SECRETS_DIR: path.join(cluster.dir, "secrets") } });
      const code = await new Promise((resolve) => child.on("close", resolve));
      if (code !== 0) throw new Error(`the preStop of node ${index} exited with ${code}`);
      const stoppedAt = Date.now();
      await cluster.stop("redis", index, "SIGTERM"); // what the kubelet does once preStop returns
      for (const until = stoppedAt + 30_000; Date.now() < until && !clients.every((c) => c.wroteSince(stoppedAt)); ) await sleep(50);
      await sleep(300);
    } finally {
      for (const [i, client] of clients.entries()) reports[i].push(await client.stop());
    }
    const witness = cluster.nodes[(index + 1) % cluster.nodes.length];
    const master = await withClient(witness.sentinelAddress ?? witness.address, witness.sentinelPort, cluster.credentials("app"), async (c) =>
      ((await c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", cluster.masterName)) as string[])[0],
    );
    await restartAsReplica(cluster, index, master);
  }
  for (const [i, { label }] of variants.entries()) {
    const errors = reports[i].map((r) => [...r.errors.values()].reduce((a, b) => a + b, 0));
    const kinds = new Map<string, number>();
    for (const r of reports[i]) for (const [message, n] of r.errors) kinds.set(message, (kinds.get(message) ?? 0) + n);
    const named = [...kinds].map(([message, n]) => `${n} x ${message.length > 60 ? `${message.slice(0, 57)}...` : message}`).join("; ");
    const pauses = reports[i].map((r) => r.longestPauseMs);
    row(
      `planned failover, errors seen by a sentinel-aware client (${label}) through preStop and SIGTERM, ${runs} runs`,
      `errors: ${errors.reduce((a, b) => a + b, 0)} (per run ${errors.join(", ")})${named ? `: ${named}` : ""}`,
      `longest pause: median ${median(pauses)} ms, max ${Math.max(...pauses)} ms`,
    );
  }
}

async function main() {
  const load = os.loadavg()[0];
  synthesisAgainstBare();
  synthesisAsEnvironmentsGrow();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-cluster-"));
  const cluster = await LocalCluster.up(parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } }), {
    dir,
    firstAddress: "127.0.20.11",
  });
  try {
    await unplannedFailover(cluster);
    await plannedFailover(cluster, localAddresses(3, "127.0.20.11"));
    await plannedFailoverSentinelClients(cluster, localAddresses(3, "127.0.20.11"));
  } finally {
    await cluster.down();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const cpu = /model name\s*:\s*(.*)/.exec(fs.readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? os.cpus()[0]?.model;
  const redis = spawnSync("redis-server", ["--version"], { encoding: "utf8" }).stdout.split(" ")[2];
  console.log(
    `Machine: ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, Redis ${redis.replace("v=", "")}; ` +
      `load average ${load.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end`,
  );
  const table = [["what", "figure", ""], ...rows];
  const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
  const line = (r: string[]) => console.log(`| ${r.map((cell, c) => cell.padEnd(widths[c])).join(" | ")} |`);
  line(table[0]);
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) line(r);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
