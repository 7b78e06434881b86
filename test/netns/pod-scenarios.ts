import * as ipaddr from "ipaddr.js";
import type { KubernetesRedisSentinelProps } from "../../constructs/kubernetes-redis-sentinel";
import { TestNetwork } from "../../src/local";
import type { Kubelet } from "../../src/local/kubelet";
import {
  kubeletFor,
  masterPod,
  missingKeys,
  roleOf,
  seconds,
  sleep,
  startWriter,
  status,
  synthesize,
  waitHealthy,
  waitNewMaster,
} from "./pods";

/**
 * The pod scenarios, for one shape of the Kubernetes render (`props`): each test prints its figure. `subnet` is a /24
 * of 198.18.64.0/20; every kubelet takes pod addresses of its own in it.
 */
export function podScenarios(options: { readonly name: string; readonly subnet: string; readonly props: Partial<KubernetesRedisSentinelProps> }): void {
  jest.setTimeout(600_000);
  const cluster = synthesize(options.props);
  const label = options.name;
  const n = cluster.construct.config.topology.nodeCount;
  const base = ipaddr.IPv4.parse(options.subnet.split("/")[0]).toByteArray();
  let nextBlock = 0;
  /** Pod addresses for one kubelet: 40 of its own in the subnet. */
  const addresses = () => [base[0], base[1], base[2], 10 + 40 * nextBlock++].join(".");
  let net: TestNetwork;
  const kubelets: Kubelet[] = [];
  const undo: Array<() => void> = [];

  beforeAll(() => {
    net = TestNetwork.create({ name: label.slice(0, 8), subnet: options.subnet });
  });
  afterAll(async () => {
    for (const k of kubelets) await k.destroy();
    net?.destroy();
    // In reverse: each undo puts back the lookup it wrapped.
    undo.reverse().forEach((u) => u());
  });

  const newKubelet = () => {
    const kubelet = kubeletFor(cluster, net, addresses());
    kubelets.push(kubelet);
    undo.push(kubelet.dns.resolveInThisProcess(kubelet.clusterDomain));
    return kubelet;
  };
  /** Creates every pod: the Sentinel pods first (when apart), then the Redis pods in `order`, each 2 s after the last. */
  const createAll = async (kubelet: Kubelet, order: readonly number[]) => {
    if (cluster.sentinelSet) await kubelet.createPods(cluster.sentinelSet, order, { waitRunningMs: 2000 });
    await kubelet.createPods(cluster.redisSet, order, { waitRunningMs: 2000 });
  };

  describe.each([[[0, 1, 2]], [[2, 1, 0]], [[1, 0, 2]]])(`${label}: a fresh start`, (order) => {
    test(`in order ${order.join(",")} becomes healthy, with pod 0 as master`, async () => {
      const kubelet = newKubelet();
      const start = Date.now();
      await createAll(kubelet, order);
      const s = await waitHealthy(cluster, kubelet);
      console.log(`figures: ${label}, fresh start, order ${order.join(",")}: healthy after ${seconds(Date.now() - start)} s`);
      expect(masterPod(s)).toBe(`${cluster.redisSet}-0`);
      await kubelet.destroy();
      kubelets.splice(kubelets.indexOf(kubelet), 1);
    });
  });

  describe(`${label}: one cluster through failures and an update`, () => {
    let kubelet: Kubelet;
    const written: string[] = [];
    beforeAll(async () => {
      kubelet = newKubelet();
      await createAll(kubelet, [0, 1, 2]);
      await waitHealthy(cluster, kubelet);
    });

    test("a re-run init container in the same pod succeeds (the copies in /stage are replaced)", async () => {
      const pod = `${cluster.redisSet}-1`;
      await kubelet.restartPod(pod);
      await kubelet.waitReady(pod, 120_000);
      expect(kubelet.pod(pod).initRuns).toBe(2);
      await waitHealthy(cluster, kubelet);
    });

    test("kill -9 of the master's Redis: the container restarts, and the cluster is healthy again", async () => {
      const before = await waitHealthy(cluster, kubelet);
      const master = masterPod(before);
      const writer = startWriter(cluster, kubelet, "crash");
      await sleep(2000);
      const start = Date.now();
      kubelet.killContainer(master, "redis", "SIGKILL");
      await sleep(1000);
      const s = await waitHealthy(cluster, kubelet);
      const report = await writer.stop();
      const missing = await missingKeys(cluster, kubelet, report.acknowledged);
      console.log(
        `figures: ${label}, kill -9 of the master's redis: healthy after ${seconds(Date.now() - start)} s, master ${masterPod(s)}` +
          ` (was ${master}), ${report.acknowledged.length} writes acknowledged, ${missing.length} lost, longest pause ${seconds(report.longestPauseMs)} s`,
      );
      expect(kubelet.restarts(master, "redis")).toBe(1);
      expect(missing).toEqual([]);
      for (const key of report.acknowledged) written.push(key);
    });

    test("the master pod deleted and recreated with its volume: its name does not resolve meanwhile; it comes back at a new address as a replica", async () => {
      const before = await waitHealthy(cluster, kubelet);
      const master = masterPod(before);
      const oldAddress = kubelet.pod(master).address;
      const dnsName = kubelet.pod(master).dnsName;
      const writer = startWriter(cluster, kubelet, "recreate");
      await sleep(1000);
      const start = Date.now();
      await kubelet.deletePod(master);
      const failedOver = await status(cluster, kubelet);
      expect(kubelet.dns.lookup(dnsName)).toBeUndefined();
      await sleep(3000);
      const pod = kubelet.createPod(cluster.redisSet, Number(master.split("-").pop()));
      expect(pod.address).not.toBe(oldAddress);
      await kubelet.waitReady(master, 180_000);
      const s = await waitHealthy(cluster, kubelet);
      const report = await writer.stop();
      for (const key of report.acknowledged) written.push(key);
      console.log(
        `figures: ${label}, master pod ${master} deleted and recreated: Ready and healthy after ${seconds(Date.now() - start)} s, ` +
          `master ${masterPod(s)}; ${report.acknowledged.length} writes acknowledged, longest pause ${seconds(report.longestPauseMs)} s`,
      );
      expect(failedOver.master).not.toBe(before.master);
      expect(s.nodes.find((node) => node.address === dnsName)?.redis.role).toBe("slave");
      expect(await missingKeys(cluster, kubelet, report.acknowledged)).toEqual([]);
    });

    test("the master pod lost (no preStop) and recreated with its volume after the failover: its Redis answers as a replica from the start", async () => {
      const before = await waitHealthy(cluster, kubelet);
      const master = masterPod(before);
      const start = Date.now();
      await kubelet.deletePod(master, { gracePeriodSeconds: 0 });
      const failover = await waitNewMaster(cluster, kubelet, before.master!, 120_000);
      const pod = kubelet.createPod(cluster.redisSet, Number(master.split("-").pop()));
      let role: string | undefined;
      while (!role) {
        role = await roleOf(cluster, pod.dnsName);
        await sleep(100);
      }
      const s = await waitHealthy(cluster, kubelet);
      console.log(
        `figures: ${label}, master pod ${master} lost and recreated with its volume: failover after ${seconds(failover)} s, ` +
          `healthy after ${seconds(Date.now() - start)} s; its Redis first answered as ${role}`,
      );
      expect(role).toBe("slave");
      expect(kubelet.logTail(master, "boot")).toContain("redis-ha-boot: this node follows");
      expect(masterPod(s)).not.toBe(master);
    });

    test("a rolling update in StatefulSet order under a writer (WAIT 1) loses no acknowledged write", async () => {
      await waitHealthy(cluster, kubelet);
      const writer = startWriter(cluster, kubelet, "rolling");
      await sleep(1000);
      const start = Date.now();
      for (const set of [cluster.redisSet, ...(cluster.sentinelSet ? [cluster.sentinelSet] : [])]) {
        await kubelet.rollingUpdate(set);
      }
      const updated = Date.now() - start;
      const s = await waitHealthy(cluster, kubelet);
      const report = await writer.stop();
      for (const key of report.acknowledged) written.push(key);
      const missing = await missingKeys(cluster, kubelet, report.acknowledged);
      console.log(
        `figures: ${label}, rolling update of ${n} pods${cluster.sentinelSet ? ` and ${n} sentinel pods` : ""}: ${seconds(updated)} s, ` +
          `${report.acknowledged.length} writes acknowledged, ${missing.length} lost, longest pause ${seconds(report.longestPauseMs)} s; master ${masterPod(s)}`,
      );
      expect(report.acknowledged.length).toBeGreaterThan(0);
      expect(missing).toEqual([]);
    });

    test("the master's volume lost: the new empty pod does not start as master; it resyncs from the new one", async () => {
      const before = await waitHealthy(cluster, kubelet);
      const master = masterPod(before);
      const start = Date.now();
      // The node is lost with the volume: no preStop, no hand-over.
      await kubelet.deletePod(master, { gracePeriodSeconds: 0 });
      kubelet.loseVolume(master);
      kubelet.createPod(cluster.redisSet, Number(master.split("-").pop()));
      const newMaster = await waitNewMaster(cluster, kubelet, before.master!, 120_000);
      await kubelet.waitReady(master, 180_000);
      const s = await waitHealthy(cluster, kubelet);
      console.log(
        `figures: ${label}, master ${master}'s volume lost: failover after ${seconds(newMaster)} s, the empty pod a Ready replica ` +
          `and the cluster healthy after ${seconds(Date.now() - start)} s; master ${masterPod(s)}`,
      );
      expect(masterPod(s)).not.toBe(master);
      expect(kubelet.logTail(master, "boot", 50)).toContain("waiting");
      expect(await missingKeys(cluster, kubelet, written)).toEqual([]);
    });
  });
}


