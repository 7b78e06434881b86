import type { RedisSentinelConfig } from "../spec";
import { SpecError, type SpecProblem } from "../spec/parse";

/** Where the nodes of one cluster are: `addresses[i]` is node i's address (IP address or stable host name). */
export interface ClusterNodes {
  readonly addresses: readonly string[];
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
  addresses.forEach((address, i) => {
    if (!/^[A-Za-z0-9.:-]+$/.test(address)) {
      problems.push({
        path: `addresses[${i}]`,
        value: JSON.stringify(address),
        message: "must be an IP address or a host name (letters, digits, '.', ':' and '-')",
      });
    } else if (addresses.indexOf(address) !== i) {
      problems.push({
        path: `addresses[${i}]`,
        value: JSON.stringify(address),
        message: `is also addresses[${addresses.indexOf(address)}]: every node needs its own address`,
      });
    }
  });
  if (problems.length > 0) throw new SpecError(problems);
}

/** Address of the node that starts as master. */
export function initialMasterAddress(config: RedisSentinelConfig, nodes: ClusterNodes): string {
  return nodes.addresses[config.topology.initialMaster];
}

/** True when the nodes are addressed by host names (stable DNS names on Kubernetes), not IP addresses. */
export function usesHostnames(nodes: ClusterNodes): boolean {
  return nodes.addresses.some((a) => !/^[0-9.]+$/.test(a) && !a.includes(":"));
}

/**
 * The `bind` line of a node. Redis binds IP addresses only: a node known by its host name (a pod) binds every
 * interface of its own network namespace, the pod's address and loopback, and its network policy guards them.
 */
export function bindLine(nodes: ClusterNodes, index: number, extra: readonly string[] = []): string {
  return usesHostnames(nodes) ? "bind * -::*" : `bind ${[nodes.addresses[index], ...extra].join(" ")}`;
}
