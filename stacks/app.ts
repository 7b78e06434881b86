import { App } from "cdktf";
import { SpecError, type SpecProblem } from "../src";
import { ENVIRONMENTS, type Environment } from "./environments";
import { KUBERNETES_ENVIRONMENTS, KubernetesRedisSentinelStack, type KubernetesEnvironment } from "./kubernetes-stack";
import { Ec2RedisSentinelStack } from "./ec2-stack";

/** The cdktf app: one stack per environment, named `redis-sentinel-<environment>`. */
export function buildApp(
  environments: readonly Environment[] = ENVIRONMENTS,
  app: App = new App(),
  kubernetes: readonly KubernetesEnvironment[] = KUBERNETES_ENVIRONMENTS,
): App {
  const stacks = environments.map((environment) => new Ec2RedisSentinelStack(app, `redis-sentinel-${environment.name}`, environment));
  checkSharedAddresses(environments, stacks);
  for (const environment of kubernetes) {
    new KubernetesRedisSentinelStack(app, `redis-sentinel-${environment.name}`, environment);
  }
  return app;
}

/**
 * Two environments in one VPC must not claim one node address: the second stack's network interfaces would fail
 * when it is applied. Throws one SpecError naming every clash.
 */
function checkSharedAddresses(environments: readonly Environment[], stacks: readonly Ec2RedisSentinelStack[]): void {
  const claimed = new Map<string, string>();
  const problems: SpecProblem[] = [];
  stacks.forEach((stack, e) => {
    stack.cluster.placement.nodes.forEach((node, i) => {
      const key = `${stack.cluster.placement.vpcId} ${node.privateIp}`;
      const owner = claimed.get(key);
      if (owner !== undefined) {
        problems.push({
          path: `${environments[e].name}.cluster.nodes[${i}].privateIp`,
          value: JSON.stringify(node.privateIp),
          message: `is also an address of ${owner} in ${stack.cluster.placement.vpcId}: give each environment its own subnets or addresses`,
        });
      } else {
        claimed.set(key, `environment ${environments[e].name}`);
      }
    });
  });
  if (problems.length > 0) throw new SpecError(problems);
}
