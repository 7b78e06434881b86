import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as ipaddr from "ipaddr.js";
import { TEST_NETWORK_RANGE, TestNetwork } from "../../src/local/netns";

function ip(args: readonly string[]): void {
  const result = spawnSync("ip", args, { encoding: "utf8" });
  if (result.error || result.status !== 0) throw new Error(`ip ${args.join(" ")} failed: ${result.error?.message ?? result.stderr.trim()}`);
}

function sysctl(namespace: string, setting: string): void {
  const result = spawnSync("ip", ["netns", "exec", namespace, "sysctl", "-qw", setting], { encoding: "utf8" });
  if (result.error || result.status !== 0) throw new Error(`sysctl ${setting} in ${namespace} failed: ${result.stderr}`);
}

/**
 * The VMs' private network, as a VPC's subnets look to its instances: one bridge in a network namespace the test
 * makes, and a router there with the first address of each subnet (as a VPC router has), forwarding between them
 * and nowhere else. The test process reaches the VMs through a link from the machine's namespace at `controller`
 * (an address in the first subnet), with routes to the other subnets through the router. Each VM's tap device is
 * moved onto the bridge with `attach`. The namespace is named like TestNetwork's (`rha<PID>-`), so that
 * TestNetwork.sweep deletes it when a test process died.
 */
export class VmNetwork {
  static create(subnets: readonly string[]): VmNetwork {
    for (const subnet of subnets) {
      const [address, prefix] = ipaddr.parseCIDR(subnet);
      if (address.kind() !== "ipv4" || !address.match(ipaddr.parseCIDR(TEST_NETWORK_RANGE)) || prefix > 28) {
        throw new Error(`a VM subnet must be inside ${TEST_NETWORK_RANGE}, not ${subnet}`);
      }
    }
    TestNetwork.sweep();
    const id = randomBytes(2).toString("hex");
    const network = new VmNetwork(`rha${process.pid}-vmnet`, `rhavm${id}`, subnets);
    try {
      const ns = network.namespace;
      ip(["netns", "add", ns]);
      ip(["-n", ns, "link", "set", "lo", "up"]);
      // A fixed address: a bridge otherwise takes the lowest of its ports' addresses, so it changed whenever a VM's
      // tap came or went, and the VMs' ARP entries for their gateway went stale (measured: 25 s without routing
      // between the subnets when the master's VM was killed).
      ip(["-n", ns, "link", "add", "br0", "address", "02:00:c6:12:00:01", "type", "bridge"]);
      ip(["-n", ns, "link", "set", "br0", "up"]);
      sysctl(ns, "net.ipv4.ip_forward=1");
      sysctl(ns, "net.ipv4.conf.all.send_redirects=0");
      sysctl(ns, "net.ipv4.conf.br0.send_redirects=0");
      for (const subnet of subnets) ip(["-n", ns, "addr", "add", `${network.router(subnet)}/${subnet.split("/")[1]}`, "dev", "br0"]);
      ip(["-n", ns, "link", "add", "up0", "type", "veth", "peer", "name", network.link]);
      ip(["-n", ns, "link", "set", network.link, "netns", "1"]);
      ip(["-n", ns, "link", "set", "up0", "master", "br0", "up"]);
      ip(["addr", "add", `${network.controller}/${subnets[0].split("/")[1]}`, "dev", network.link]);
      ip(["link", "set", network.link, "up"]);
      for (const subnet of subnets.slice(1)) ip(["route", "add", subnet, "via", network.router(subnets[0]), "dev", network.link]);
    } catch (e) {
      network.destroy();
      throw e;
    }
    return network;
  }

  private constructor(
    readonly namespace: string,
    private readonly link: string,
    readonly subnets: readonly string[],
  ) {}

  /** The router's address in `subnet` (its first address, the instances' gateway). */
  router(subnet: string): string {
    const bytes = ipaddr.IPv4.networkAddressFromCIDR(subnet).toByteArray();
    bytes[3] += 1;
    return bytes.join(".");
  }

  /** The test process's address on the network: the last usable address of the first subnet. */
  get controller(): string {
    const bytes = ipaddr.IPv4.broadcastAddressFromCIDR(this.subnets[0]).toByteArray();
    bytes[3] -= 1;
    return bytes.join(".");
  }

  /** Moves interface `name` (a VM's tap device, in the machine's namespace) onto the bridge. */
  attach(name: string): void {
    ip(["link", "set", name, "netns", this.namespace]);
    ip(["-n", this.namespace, "link", "set", name, "master", "br0", "up"]);
  }

  /** Deletes the namespace (and with it the controller's link and every tap still on the bridge). */
  destroy(): void {
    spawnSync("ip", ["netns", "del", this.namespace]);
    spawnSync("ip", ["link", "del", this.link]);
  }
}
