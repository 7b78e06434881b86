import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as ipaddr from "ipaddr.js";

/**
 * The addresses a test network may use: the benchmarking range of RFC 2544 (198.18.0.0/15), which no real network
 * routes, so that a test host can never be mistaken for a real one.
 */
export const TEST_NETWORK_RANGE = "198.18.0.0/15";

/** Prefix of every network namespace a `TestNetwork` makes: `rha<creator PID>-<network>-<host>`. */
const NAMESPACE_PREFIX = "rha";
const NETNS_DIR = "/run/netns";
const NETNS_ETC = "/etc/netns";
/** The nftables table holding a host's partition rules. */
const PARTITION_TABLE = "redis_ha_partition";

export interface TestNetworkOptions {
  /** A short name for the network: up to 8 lower-case letters and digits, unique among this process's networks. */
  readonly name: string;
  /**
   * The network's subnet, a /16 to /28 inside 198.18.0.0/15, such as "198.18.20.0/24". Its first address is the
   * controller's: the test process, in the machine's own namespace, reaches every host through it.
   */
  readonly subnet: string;
}

/** One test host: a network namespace with one interface on the network's bridge. */
export interface TestHost {
  readonly name: string;
  readonly address: string;
  /** The network namespace: run a command there with `TestNetwork.exec` or `ip netns exec NAMESPACE`. */
  readonly namespace: string;
}

function ip(args: readonly string[], input?: string): string {
  const result = spawnSync("ip", args, { encoding: "utf8", input });
  if (result.error) throw new Error(`ip ${args.join(" ")}: ${result.error.message} (install Debian's iproute2)`);
  if (result.status !== 0) throw new Error(`ip ${args.join(" ")} failed: ${result.stderr.trim()}`);
  return result.stdout;
}

function nft(namespace: string, script: string): void {
  const result = spawnSync("ip", ["netns", "exec", namespace, "nft", "-f", "-"], { encoding: "utf8", input: script });
  if (result.error || result.status !== 0) {
    throw new Error(`nft in ${namespace} failed: ${result.error?.message ?? result.stderr.trim()} (install Debian's nftables)`);
  }
}

const namespaces = (): string[] => (fs.existsSync(NETNS_DIR) ? fs.readdirSync(NETNS_DIR) : []);

/** PIDs of the processes in network namespace `namespace`. */
export function pidsInNamespace(namespace: string): number[] {
  const result = spawnSync("ip", ["netns", "pids", namespace], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
}

function deleteNamespace(namespace: string): void {
  // A namespace outlives `ip netns del` while a process holds it: those are ours (only our tests start processes
  // there), stopped by PID.
  for (const pid of pidsInNamespace(namespace)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  spawnSync("ip", ["netns", "del", namespace]);
  fs.rmSync(`${NETNS_ETC}/${namespace}`, { recursive: true, force: true });
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * A private network of test hosts on one machine: a bridge in a network namespace of its own, one namespace per
 * host with an address from 198.18.0.0/15, and a link from the machine's own namespace (the controller, the
 * subnet's first address) so that the test process reaches every host. No packet leaves the machine: nothing
 * routes between the bridge and any other interface.
 *
 * Partitions drop packets where they arrive (nftables in the receiving host's input hook), as a network that loses
 * them would: no error reaches the sender, whose connections time out.
 *
 * Needs root and Debian's iproute2 and nftables. `destroy` deletes every namespace it made; a network whose test
 * process died is deleted by the next `create`.
 */
export class TestNetwork {
  /** Makes the bridge and the controller's link. */
  static create(options: TestNetworkOptions): TestNetwork {
    if (!/^[a-z0-9]{1,8}$/.test(options.name)) {
      throw new Error(`a test network's name must be 1-8 lower-case letters and digits, not ${JSON.stringify(options.name)}`);
    }
    const [network, prefix] = ipaddr.parseCIDR(options.subnet);
    const range = ipaddr.parseCIDR(TEST_NETWORK_RANGE);
    if (network.kind() !== "ipv4" || !network.match(range) || prefix < 16 || prefix > 28) {
      throw new Error(`a test network's subnet must be a /16 to /28 inside ${TEST_NETWORK_RANGE}, not ${options.subnet}`);
    }
    TestNetwork.sweep();
    const id = `${NAMESPACE_PREFIX}${process.pid}-${options.name}`;
    if (namespaces().some((ns) => ns === `${id}-bridge`)) throw new Error(`test network ${options.name} exists already in this process`);
    const subnet = ipaddr.IPv4.networkAddressFromCIDR(options.subnet).toString();
    const controller = ipaddr.IPv4.parse(subnet).toByteArray();
    controller[3] += 1;
    const net = new TestNetwork(id, subnet, prefix, controller.join("."), `rha${randomId}n${networkCount++}`);
    try {
      const bridge = net.bridge;
      ip(["netns", "add", bridge]);
      ip(["-n", bridge, "link", "add", "br0", "type", "bridge"]);
      ip(["-n", bridge, "link", "set", "br0", "up"]);
      // The controller's link: a veth pair made in the bridge's namespace, one end moved to the machine's.
      ip(["-n", bridge, "link", "add", "up0", "type", "veth", "peer", "name", net.controllerLink]);
      ip(["-n", bridge, "link", "set", net.controllerLink, "netns", "1"]);
      ip(["-n", bridge, "link", "set", "up0", "master", "br0", "up"]);
      ip(["addr", "add", `${net.controllerAddress}/${prefix}`, "dev", net.controllerLink]);
      ip(["link", "set", net.controllerLink, "up"]);
    } catch (e) {
      net.destroy();
      throw e;
    }
    return net;
  }

  /** Deletes the namespaces of test networks whose process has exited (a test that was killed). */
  static sweep(): void {
    for (const ns of namespaces()) {
      const match = new RegExp(`^${NAMESPACE_PREFIX}(\\d+)-`).exec(ns);
      if (match && !isAlive(Number(match[1]))) deleteNamespace(ns);
    }
  }

  private readonly hosts = new Map<string, TestHost>();
  /** Index of the next host's bridge port (its veth's name in the bridge namespace). */
  private ports = 0;

  private constructor(
    private readonly id: string,
    /** The network address of the subnet. */
    readonly subnet: string,
    readonly prefixLength: number,
    /** The address of the test process on this network. */
    readonly controllerAddress: string,
    /** The controller's interface in the machine's own namespace: unique per network (15 characters at most). */
    private readonly controllerLink: string,
  ) {}

  private get bridge(): string {
    return `${this.id}-bridge`;
  }

  /** Adds host `name` at `address` (inside the subnet), with loopback up. */
  addHost(name: string, address: string): TestHost {
    if (!/^[a-z0-9]{1,16}$/.test(name)) throw new Error(`a test host's name must be 1-16 lower-case letters and digits, not ${JSON.stringify(name)}`);
    if (this.hosts.has(name)) throw new Error(`test host ${name} exists already`);
    if (!ipaddr.IPv4.isValid(address) || !ipaddr.IPv4.parse(address).match(ipaddr.IPv4.parse(this.subnet), this.prefixLength)) {
      throw new Error(`${address} is not an address of test network ${this.subnet}/${this.prefixLength}`);
    }
    if (address === this.controllerAddress || [...this.hosts.values()].some((h) => h.address === address)) {
      throw new Error(`${address} is taken on test network ${this.subnet}/${this.prefixLength}`);
    }
    const host: TestHost = { name, address, namespace: `${this.id}-${name}` };
    const port = `p${this.ports++}`;
    ip(["netns", "add", host.namespace]);
    this.hosts.set(name, host);
    ip(["-n", this.bridge, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", host.namespace]);
    ip(["-n", this.bridge, "link", "set", port, "master", "br0", "up"]);
    ip(["-n", host.namespace, "addr", "add", `${address}/${this.prefixLength}`, "dev", "eth0"]);
    ip(["-n", host.namespace, "link", "set", "eth0", "up"]);
    ip(["-n", host.namespace, "link", "set", "lo", "up"]);
    return host;
  }

  /**
   * Sets kernel parameter `key` (such as `net.ipv4.tcp_syn_linear_timeouts`) in host `name`'s network namespace
   * only; the machine's own value is left alone. Only per-namespace parameters (`net.*`) are accepted.
   */
  sysctl(name: string, key: string, value: string | number): void {
    if (!/^net\.[a-z0-9_.]+$/.test(key)) throw new Error(`only per-namespace parameters (net.*) may be set on a test host, not ${key}`);
    // Written through /proc/sys from inside the namespace (no procps needed).
    const argv = this.exec(name, ["tee", `/proc/sys/${key.replace(/\./g, "/")}`]);
    const result = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", input: `${value}\n` });
    if (result.error || result.status !== 0) throw new Error(`setting ${key}=${value} on ${name} failed: ${result.error?.message ?? result.stderr.trim()}`);
  }

  /** Kernel parameter `key` as host `name`'s network namespace sees it. */
  sysctlValue(name: string, key: string): string {
    const argv = this.exec(name, ["cat", `/proc/sys/${key.replace(/\./g, "/")}`]);
    const result = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
    if (result.error || result.status !== 0) throw new Error(`reading ${key} on ${name} failed: ${result.error?.message ?? result.stderr.trim()}`);
    return result.stdout.trim();
  }

  /** Host `name`. */
  host(name: string): TestHost {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`no test host ${name}`);
    return host;
  }

  /** The hosts, in the order they were added. */
  get allHosts(): readonly TestHost[] {
    return [...this.hosts.values()];
  }

  /** Deletes host `name`: its processes are killed by PID, its namespace and interface go. */
  removeHost(name: string): void {
    const host = this.host(name);
    deleteNamespace(host.namespace);
    this.hosts.delete(name);
  }

  /** `argv` as a command that runs in host `name`'s network namespace (the PID stays that of `argv`'s program). */
  exec(name: string, argv: readonly string[]): string[] {
    return ["ip", "netns", "exec", this.host(name).namespace, ...argv];
  }

  /**
   * Cuts the network into `groups` of host names: packets between hosts of different groups are dropped. A host in
   * no group stays connected to every host; the controller stays connected to all unless `controllerWith` names the
   * group it stays with (by index). Replaces the previous partition.
   */
  partition(groups: ReadonlyArray<readonly string[]>, options: { readonly controllerWith?: number } = {}): void {
    const groupOf = new Map<string, number>();
    groups.forEach((group, g) => group.forEach((name) => groupOf.set(this.host(name).name, g)));
    const drops: Array<[string, string]> = [];
    for (const [a, ga] of groupOf) {
      for (const [b, gb] of groupOf) if (ga !== gb) drops.push([a, b]);
      if (options.controllerWith !== undefined && options.controllerWith !== ga) drops.push(["(controller)", a]);
    }
    this.applyDrops(drops);
  }

  /** Drops every packet from host `from` (or the controller) to host `to`; replies from `to` still arrive. Adds to the current rules. */
  drop(from: string, to: string): void {
    this.applyDrops([...this.current, [from, to]]);
  }

  /** Ends every partition and drop. */
  heal(): void {
    this.applyDrops([]);
  }

  private current: Array<[string, string]> = [];

  private applyDrops(drops: Array<[string, string]>): void {
    const addressOf = (name: string) => (name === "(controller)" ? this.controllerAddress : this.host(name).address);
    for (const host of this.hosts.values()) {
      const sources = drops.filter(([, to]) => to === host.name).map(([from]) => addressOf(from));
      // The table is made anew each time: `add` makes sure it exists, so that `delete` never fails.
      nft(
        host.namespace,
        [
          `add table inet ${PARTITION_TABLE}`,
          `delete table inet ${PARTITION_TABLE}`,
          `table inet ${PARTITION_TABLE} {`,
          "  chain input {",
          "    type filter hook input priority -300; policy accept;",
          ...(sources.length > 0 ? [`    ip saddr { ${sources.join(", ")} } drop`] : []),
          "  }",
          "}",
          "",
        ].join("\n"),
      );
    }
    this.current = drops;
  }

  /** Deletes every host and the bridge; processes still in them are killed by PID. Safe to call twice. */
  destroy(): void {
    for (const name of [...this.hosts.keys()]) this.removeHost(name);
    deleteNamespace(this.bridge);
    spawnSync("ip", ["link", "del", this.controllerLink]);
  }
}

/** Distinguishes this process's controller links from those of other processes. */
const randomId = randomBytes(3).toString("hex");
let networkCount = 0;
