import { bootOnNetwork, figure, healAndSettle, indexOf, sleep, type NetCluster } from "./partition-checks";

// A network-wide outage longer than down-after: every node cut from every other (10 s), then healed, on two
// kernel behaviours for connection attempts: SYN retransmissions every second for the first four
// (`net.ipv4.tcp_syn_linear_timeouts` = 4, the default since Linux 6.5, as on Debian 13), and exponential back-off
// (0: 1, 2, 4, 8 s, as before 6.5). The parameter is set in each node's network namespace only. What must hold:
// the cluster heals with one master, never two that take writes. Whether the sentinels fail over after the heal
// (a failover no one needed) is counted and printed; PARTITION_OUTAGE_RUNS sets the runs per behaviour and
// PARTITION_OUTAGE_MS the outage's length, for measuring by hand.
jest.setTimeout(900_000);

const RUNS = Number(process.env.PARTITION_OUTAGE_RUNS ?? 2);
const OUTAGE_MS = Number(process.env.PARTITION_OUTAGE_MS ?? 10_000);
const SYN_LINEAR = "net.ipv4.tcp_syn_linear_timeouts";
const BEHAVIOURS = [
  { name: "linear SYN retries (tcp_syn_linear_timeouts=4)", value: 4, network: "outlin", subnet: "198.18.98.0/24" },
  { name: "exponential SYN back-off (tcp_syn_linear_timeouts=0)", value: 0, network: "outexp", subnet: "198.18.99.0/24" },
] as const;

describe.each(BEHAVIOURS)(`a network-wide outage of ${OUTAGE_MS} ms with $name`, ({ name, value, network, subnet }) => {
  let nc: NetCluster | undefined;
  afterAll(async () => {
    await nc?.destroy();
  });

  test(`heals with one master and never two (${RUNS} runs); unneeded failovers counted`, async () => {
    nc = await bootOnNetwork(network, subnet, undefined, (net, hosts) => {
      for (const h of hosts) net.sysctl(h, SYN_LINEAR, value);
    });
    for (const h of nc.hosts) expect(nc.net.sysctlValue(h, SYN_LINEAR)).toBe(String(value));
    const outcomes: string[] = [];
    let failovers = 0;
    for (let run = 0; run < RUNS; run++) {
      const before = indexOf(nc, (await nc.cluster.waitHealthy(90_000)).master!.split(":")[0]);
      nc.net.partition(nc.hosts.map((h) => [h]));
      await sleep(OUTAGE_MS);
      // A failover the sentinels start after the heal takes a few seconds more: watch for 20 s after the heal.
      const settled = await healAndSettle(nc, { watchMs: 20_000 });
      expect(settled.secondMasters).toEqual([]);
      const status = await nc.cluster.waitHealthy(90_000);
      const after = settled.master;
      expect(status.nodes.filter((n) => n.redis.role === "master")).toHaveLength(1);
      if (after !== before) failovers++;
      outcomes.push(after !== before ? `failover (node ${before} -> ${after})` : "no failover");
    }
    figure(`network-wide outage of ${OUTAGE_MS} ms, ${name}: ${failovers} unneeded failovers in ${RUNS} runs (${outcomes.join("; ")})`);
  });
});
