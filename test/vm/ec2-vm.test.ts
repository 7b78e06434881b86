import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { formatStatus, type ClusterStatus } from "../../src/local";
import { Ec2Cluster, VM_REGION } from "./ec2-cluster";

// The test environment's synthesized stack on three Debian 12 VMs under QEMU (TCG), driven as AWS would: first
// deploy, power loss of the master and its return, a replaced node, a replaced data volume, a reboot of every VM. The scenarios run in sequence on the same VMs; each prints
// its figure. See the README, "VM tests".

const MINUTE = 60_000;
jest.setTimeout(40 * MINUTE);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-test-"));
const figures: string[] = [];
const figure = (line: string) => {
  figures.push(line);
  console.log(`figures: ${line}`);
};
const log = (line: string) => console.log(`[vm ${new Date().toISOString().slice(11, 19)}] ${line}`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const startedAt = Date.now();
let cluster: Ec2Cluster;
/** Keys a replica acknowledged (WAIT 1), by scenario: all must survive every later scenario. */
const acknowledged = new Map<string, string>();

/** A setting of the deployed sentinels (`sentinel <setting> <master> <value>`), from the user data. */
function sentinelSetting(setting: string): number {
  const doc = parse(cluster.nodes[0].userData) as { write_files: Array<{ path: string; content: string }> };
  const conf = doc.write_files.find((f) => f.path === "/etc/redis-ha/sentinel.conf")!.content;
  return Number(new RegExp(`^sentinel ${setting} \\S+ (\\d+)$`, "m").exec(conf)![1]);
}
const downAfterMs = () => sentinelSetting("down-after-milliseconds");

/** How many elections node `index`'s sentinel has lost since its VM booted (`-failover-abort-not-elected`). */
async function electionsLost(index: number): Promise<number> {
  const journal = await cluster.exec(index, ["/bin/journalctl", "--no-pager", "-b", "-u", "redis-ha-sentinel.service"]);
  return journal.stdout.split("\n").filter((line) => line.includes("-failover-abort-not-elected")).length;
}

async function writeAcknowledged(master: string, prefix: string, count: number): Promise<void> {
  await cluster.redis(master, async (c) => {
    for (let i = 0; i < count; i++) {
      await c.set(`${prefix}:${i}`, `v${i}`);
      if (Number(await c.call("WAIT", "1", "2000")) >= 1) acknowledged.set(`${prefix}:${i}`, `v${i}`);
    }
  }, 60_000);
}

/** Every acknowledged key, read back from `address`. */
async function lostKeys(address: string): Promise<string[]> {
  const keys = [...acknowledged.keys()];
  const values = await cluster.redis(address, (c) => c.mget(...keys), 30_000);
  return keys.filter((k, i) => values[i] !== acknowledged.get(k));
}

async function healthy(timeoutMs: number): Promise<ClusterStatus> {
  try {
    return await cluster.waitHealthy(timeoutMs);
  } catch (e) {
    log(formatStatus(await cluster.status()));
    throw e;
  }
}

/** cloud-init on node `index` finished with status done and no error. */
async function expectCloudInitDone(index: number, timeoutMs: number): Promise<void> {
  const result = await cluster.cloudInitResult(index, timeoutMs);
  if (result.exitCode !== 0 || (result.result.v1?.errors ?? []).length > 0) {
    log(`node ${index}: cloud-init status: ${result.status}\n${JSON.stringify(result.result)}`);
    log((await cluster.exec(index, ["/bin/sh", "-c", "tail -n 40 /var/log/cloud-init-output.log; journalctl -u redis-ha-boot --no-pager | tail -n 40"])).stdout);
  }
  expect(result.status).toMatch(/^status: done$/m);
  expect(result.result.v1?.errors).toEqual([]);
  expect(result.exitCode).toBe(0);
}

/** Whether node `index` asked stand-in `service` for `what`. */
const asked = (index: number, service: string, what: string) => cluster.requests.some((r) => r.node === index && r.service === service && r.what === what);
const masterAddress = (status: ClusterStatus) => status.master!.split(":")[0];

beforeAll(async () => {
  cluster = await Ec2Cluster.create(dir, log);
});

afterAll(async () => {
  if (cluster) {
    const asked = new Map<string, number>();
    for (const r of cluster.requests) asked.set(`node ${r.node} ${r.service} ${r.what} -> ${r.status}`, (asked.get(`node ${r.node} ${r.service} ${r.what} -> ${r.status}`) ?? 0) + 1);
    log(`stand-in requests:\n${[...asked].map(([what, n]) => `  ${what} (x${n})`).join("\n")}`);
    await cluster.destroy();
  }
  figure(`VM layer total: ${seconds(Date.now() - startedAt)}`);
  console.log(figures.map((f) => `figures: ${f}`).join("\n"));
  if (!process.env.REDIS_HA_VM_KEEP) fs.rmSync(dir, { recursive: true, force: true });
});

test("(a) first deploy, node 0 powered on last: healthy, cloud-init done with no error on every VM", async () => {
  const poweredOn = Date.now();
  await cluster.start(2);
  await cluster.start(1);
  await sleep(30_000);
  await cluster.start(0);
  await Promise.all([0, 1, 2].map((i) => expectCloudInitDone(i, 30 * MINUTE)));
  const cloudInitDone = Date.now();
  const status = await healthy(5 * MINUTE);
  log(formatStatus(status));
  for (const node of status.nodes) {
    expect(node.sentinel).toMatchObject({ replicasOk: 2, otherSentinels: 2, ckquorumOk: true });
  }
  // Every node read its password from the SSM endpoint, through IMDS's role credentials.
  for (const index of [0, 1, 2]) {
    expect(cluster.requests.some((r) => r.node === index && r.service === "ssm" && r.status === 200)).toBe(true);
    expect(cluster.requests.some((r) => r.node === index && r.service === "imds" && /security-credentials\/.+/.test(r.what))).toBe(true);
  }
  // The sysctl the user data sets (Redis's admin guide), applied before Redis started.
  for (const index of [0, 1, 2]) {
    expect((await cluster.exec(index, ["/bin/cat", "/proc/sys/vm/overcommit_memory"])).stdout.trim()).toBe("1");
  }
  // Each node tried to install AWS's SSM Agent from the region's bucket over HTTPS; the stand-in has no package
  // (it cannot be downloaded here), so the agent's unit failed, and neither the boot nor cloud-init did.
  const agentUrl = `GET /amazon-ssm-${VM_REGION}/latest/debian_amd64/amazon-ssm-agent.deb`;
  for (const index of [0, 1, 2]) {
    for (const until = Date.now() + 5 * MINUTE; !asked(index, "s3", agentUrl) && Date.now() < until; ) await sleep(2000);
    expect(asked(index, "s3", agentUrl)).toBe(true);
    const journal = await cluster.exec(index, ["/bin/journalctl", "--no-pager", "-u", "redis-ha-ssm-agent.service"]);
    expect(journal.stdout).toContain(`redis-ha-ssm-agent: downloading https://s3.${VM_REGION}.amazonaws.com/amazon-ssm-${VM_REGION}/latest/debian_amd64/amazon-ssm-agent.deb`);
    expect(journal.stdout).toMatch(/returned error: 404/);
  }
  figure(`(a) first deploy (3 VMs at once, node 0 30 s after the others): power-on to cloud-init done on all ${seconds(cloudInitDone - poweredOn)}, to healthy ${seconds(Date.now() - poweredOn)}`);
});

/** The node whose VM (b) killed and (c) powers on again. */
let killed = -1;

// When a whole node dies, two sentinels are left, and both see the master go down at the same moment. If both
// start an election at once, each votes for itself, neither has a majority, and the next try waits for twice the
// failover timeout, plus up to 1 s (Sentinel's rule). The bound is down-after + 3 s, plus 2 x failover-timeout + 1 s
// for each election lost that way (read from the sentinels' logs); the figure says how many.
test("(b) the master VM killed: a writable new master within down-after + 3 s (+ 2 x failover-timeout + 1 s per split vote), no acknowledged write lost", async () => {
  const old = masterAddress(await healthy(5 * MINUTE));
  killed = cluster.indexOf(old);
  await writeAcknowledged(old, "before-kill", 200);
  expect(acknowledged.size).toBe(200);
  const witness = [0, 1, 2].find((i) => i !== killed)!;
  const survivors = [0, 1, 2].filter((i) => i !== killed);
  const lostBefore = await Promise.all(survivors.map(electionsLost));
  const killedAt = Date.now();
  await cluster.kill(killed);
  let newMaster: string | undefined;
  for (const until = killedAt + 5 * MINUTE; Date.now() < until && !newMaster; await sleep(100)) {
    const named = await cluster.masterBy(witness);
    if (!named || named === old) continue;
    if ((await cluster.redis(named, (c) => c.set("after-kill", "1"), 2000).catch(() => undefined)) === "OK") newMaster = named;
  }
  const killToWritable = Date.now() - killedAt;
  expect(newMaster).toBeDefined();
  const lostAfter = await Promise.all(survivors.map(electionsLost));
  const lost = Math.max(...lostAfter.map((n, i) => n - lostBefore[i]));
  // Each lost election puts the next try off by 2 x failover-timeout, and by a random part of a second besides
  // (SENTINEL_MAX_DESYNC, 1000 ms).
  const bound = downAfterMs() + lost * (2 * sentinelSetting("failover-timeout") + 1000) + 3000;
  figure(
    `(b) master VM killed: a writable new master after ${seconds(killToWritable)} (down-after ${seconds(downAfterMs())}; ${lost > 0 ? `${lost} election(s) lost to a split vote, bound ${seconds(bound)}` : "no election lost"})`,
  );
  expect(await lostKeys(newMaster!)).toEqual([]);
  expect(killToWritable).toBeLessThanOrEqual(bound);
});

test("(c) the killed VM powered on again: it rejoins as a replica, with every acknowledged write", async () => {
  expect(killed).toBeGreaterThanOrEqual(0);
  const poweredOn = Date.now();
  await cluster.start(killed);
  const status = await healthy(15 * MINUTE);
  const node = status.nodes[killed];
  expect(node.redis.role).toBe("slave");
  expect(node.redis.master).toBe(status.master);
  figure(`(c) killed VM powered on again: healthy, as a replica, ${seconds(Date.now() - poweredOn)} after power-on`);
  expect(await lostKeys(cluster.nodes[killed].address)).toEqual([]);
});

test("(d) a node replaced (new root disk, same data volume and address): it joins the current master", async () => {
  const before = await healthy(5 * MINUTE);
  const master = masterAddress(before);
  const replaced = [0, 1, 2].find((i) => cluster.nodes[i].address !== master)!;
  await cluster.kill(replaced);
  cluster.replace(replaced);
  const poweredOn = Date.now();
  await cluster.start(replaced);
  await expectCloudInitDone(replaced, 30 * MINUTE);
  const status = await healthy(10 * MINUTE);
  expect(masterAddress(status)).toBe(master);
  expect(status.nodes[replaced].redis).toMatchObject({ role: "slave", master: status.master, linkUp: true });
  figure(`(d) node ${replaced} replaced: a new instance, cloud-init done and healthy as a replica of the current master ${seconds(Date.now() - poweredOn)} after power-on`);
  expect(await lostKeys(cluster.nodes[replaced].address)).toEqual([]);
});

test("(e) the master's data volume replaced by an empty one: no empty master; it follows the current master and gets the data back", async () => {
  const before = await healthy(5 * MINUTE);
  const master = masterAddress(before);
  const index = cluster.indexOf(master);
  await writeAcknowledged(master, "before-volume", 100);
  await cluster.kill(index);
  // As on EC2, the volume is swapped while the instance is stopped: long enough for the sentinels to fail over.
  const witness = [0, 1, 2].find((i) => i !== index)!;
  for (const until = Date.now() + 2 * MINUTE; (await cluster.masterBy(witness)) === master && Date.now() < until; ) await sleep(500);
  await sleep(10_000);
  cluster.replaceDataVolume(index);
  const poweredOn = Date.now();
  await cluster.start(index);
  // Until it is healthy again: no sentinel may name the emptied node master, and no node may follow it.
  let emptyMaster: string | undefined;
  let status: ClusterStatus | undefined;
  for (const until = Date.now() + 15 * MINUTE; Date.now() < until; await sleep(2000)) {
    status = await cluster.status();
    const followers = status.nodes.filter((n) => n.redis.master === `${master}:${cluster.redisPort}`);
    if (status.nodes.some((n) => n.sentinel.master === `${master}:${cluster.redisPort}`) || followers.length > 0) {
      emptyMaster = formatStatus(status);
      break;
    }
    if (status.healthy) break;
  }
  expect(emptyMaster).toBeUndefined();
  expect(status?.healthy).toBe(true);
  expect(status!.nodes[index].redis).toMatchObject({ role: "slave", linkUp: true });
  figure(`(e) master's data volume replaced by an empty one: healthy as a replica ${seconds(Date.now() - poweredOn)} after power-on`);
  expect(await lostKeys(master)).toEqual([]);
  expect(await lostKeys(masterAddress(status!))).toEqual([]);
});

test("(f) every VM rebooted: healthy again, no acknowledged write lost", async () => {
  const master = masterAddress(await healthy(5 * MINUTE));
  await writeAcknowledged(master, "before-reboot", 100);
  const bootId = (i: number) => cluster.exec(i, ["/bin/cat", "/proc/sys/kernel/random/boot_id"]).then((r) => r.stdout.trim());
  const before = await Promise.all([0, 1, 2].map(bootId));
  const rebootedAt = Date.now();
  await Promise.all([0, 1, 2].map((i) => cluster.vm(i).reboot()));
  // Every VM has booted again (a new boot id) before the cluster counts as healthy.
  await Promise.all(
    [0, 1, 2].map(async (i) => {
      for (const until = Date.now() + 15 * MINUTE; Date.now() < until; await sleep(5000)) {
        const now = await bootId(i).catch(() => before[i]);
        if (now && now !== before[i]) return;
      }
      throw new Error(`node ${i} did not boot again within 15 minutes`);
    }),
  );
  const status = await healthy(20 * MINUTE);
  figure(`(f) every VM rebooted at once: healthy again ${seconds(Date.now() - rebootedAt)} after the reboot`);
  expect(await lostKeys(masterAddress(status))).toEqual([]);
});
