// `npm run bench`: speed figures, printed as a table; never asserted. Real processes on 127.0.20.11-13 only.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalCluster, localAddresses, withClient } from "../../src/local";
import { renderPreStopScript } from "../../src/render";
import { parseSpec } from "../../src/spec";
import { killMaster, restartAsReplica, startWriter } from "../integration/failover-checks";

const root = path.join(__dirname, "..", "..");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows: string[][] = [];
const row = (...cells: (string | number)[]) => rows.push(cells.map(String));

/** Synthesizes every example stack in a fresh process: wall time and peak resident memory. */
function synthesis(runs = 3) {
  const times: number[] = [];
  const peaks: number[] = [];
  for (let i = 0; i < runs; i++) {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-synth-"));
    const script = `const t=process.hrtime.bigint(); require("./stacks/app").buildApp(undefined, new (require("cdktf").App)({ outdir: ${JSON.stringify(outdir)} })).synth(); console.log(JSON.stringify({ ms: Number(process.hrtime.bigint()-t)/1e6, rssKb: process.resourceUsage().maxRSS }));`;
    const result = spawnSync(process.execPath, ["--require", "tsx/cjs", "-e", script], { cwd: root, encoding: "utf8" });
    const { ms, rssKb } = JSON.parse(result.stdout.trim().split("\n").pop()!);
    times.push(ms);
    peaks.push(rssKb / 1024);
    fs.rmSync(outdir, { recursive: true, force: true });
  }
  row("synthesis of the 4 example stacks (in-process, after load)", `${median(times).toFixed(0)} ms median of ${runs}`, `peak RSS ${Math.max(...peaks).toFixed(0)} MB`);
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

async function main() {
  synthesis();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-cluster-"));
  const cluster = await LocalCluster.up(parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } }), {
    dir,
    firstAddress: "127.0.20.11",
  });
  try {
    await unplannedFailover(cluster);
    await plannedFailover(cluster, localAddresses(3, "127.0.20.11"));
  } finally {
    await cluster.down();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const cpu = /model name\s*:\s*(.*)/.exec(fs.readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? os.cpus()[0]?.model;
  console.log(`Machine: ${os.cpus().length} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${spawnSync("redis-server", ["--version"], { encoding: "utf8" }).stdout.split(" ")[2]}`);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(`| ${r.map((cell, c) => cell.padEnd(widths[c])).join(" | ")} |`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
