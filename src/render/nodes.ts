import type { RedisSentinelConfig } from "../spec";
import { SpecError, type SpecProblem } from "../spec/parse";

/** Where the nodes of one cluster are: `addresses[i]` is node i's address (IP address or stable host name). */
export interface ClusterNodes {
  readonly addresses: readonly string[];
  /**
   * Where each node's Sentinel runs, when the sentinels run apart from Redis (their own pods).
   * @default the node's own address
   */
  readonly sentinelAddresses?: readonly string[];
}

/** The address of node `index`'s Sentinel. */
export function sentinelAddress(nodes: ClusterNodes, index: number): string {
  return (nodes.sentinelAddresses ?? nodes.addresses)[index];
}

/** Checks that `nodes` fits `config` (one address per node, distinct, no spaces or quotes). Throws `SpecError`. */
export function checkNodes(config: RedisSentinelConfig, nodes: ClusterNodes): void {
  const problems: SpecProblem[] = [];
  const { addresses } = nodes;
  const n = config.topology.nodeCount;
  if (addresses.length !== n) {
    problems.push({
      path: "addresses",
      value: JSON.stringify(addresses),
      message: `must hold one address per node: ${n} (topology.nodeCount), not ${addresses.length}`,
    });
  }
  const check = (list: readonly string[], field: string) =>
    list.forEach((address, i) => {
      if (!/^[A-Za-z0-9.:-]+$/.test(address)) {
        problems.push({
          path: `${field}[${i}]`,
          value: JSON.stringify(address),
          message: "must be an IP address or a host name (letters, digits, '.', ':' and '-')",
        });
      } else if (list.indexOf(address) !== i) {
        problems.push({
          path: `${field}[${i}]`,
          value: JSON.stringify(address),
          message: `is also ${field}[${list.indexOf(address)}]: every node needs its own address`,
        });
      }
    });
  check(addresses, "addresses");
  if (nodes.sentinelAddresses) {
    if (nodes.sentinelAddresses.length !== n) {
      problems.push({
        path: "sentinelAddresses",
        value: JSON.stringify(nodes.sentinelAddresses),
        message: `must hold one address per node: ${n} (topology.nodeCount), not ${nodes.sentinelAddresses.length}`,
      });
    }
    check(nodes.sentinelAddresses, "sentinelAddresses");
  }
  if (problems.length > 0) throw new SpecError(problems);
}

/** Address of the node that starts as master. */
export function initialMasterAddress(config: RedisSentinelConfig, nodes: ClusterNodes): string {
  return nodes.addresses[config.topology.initialMaster];
}

/** True when the nodes are addressed by host names (stable DNS names on Kubernetes), not IP addresses. */
export function usesHostnames(nodes: ClusterNodes): boolean {
  return [...nodes.addresses, ...(nodes.sentinelAddresses ?? [])].some((a) => !/^[0-9.]+$/.test(a) && !a.includes(":"));
}

/**
 * The `bind` line of a process listening on `address`. Redis binds IP addresses only: a process known by its host
 * name (a pod) binds every interface of its own network namespace, the pod's address and loopback, and its network
 * policy guards them.
 */
export function bindLine(nodes: ClusterNodes, address: string, extra: readonly string[] = []): string {
  return usesHostnames(nodes) ? "bind * -::*" : `bind ${[address, ...extra].join(" ")}`;
}
