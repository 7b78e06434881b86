import type { Environment } from "../../stacks/environments";

/**
 * `n` EC2 environments for the scaling benchmark, each with its own name, VPC, subnets and address ranges:
 * environment i uses 10.(100 + i).1-3.0/24 for its nodes and 10.(100 + i).100.0/24 for its clients.
 */
export function benchEnvironments(n: number): Environment[] {
  if (n > 155) throw new Error(`at most 155 environments fit in 10.100.0.0-10.254.255.255, not ${n}`);
  const hex = (i: number, width: number) => i.toString(16).padStart(width, "0");
  return Array.from({ length: n }, (_, i) => ({
    name: `bench-${i}`,
    region: "eu-west-1",
    backend: { type: "local" },
    cluster: {
      vpcId: `vpc-${hex(i, 17)}`,
      nodes: [1, 2, 3].map((zone) => ({
        subnetId: `subnet-${hex(i * 3 + zone, 17)}`,
        availabilityZone: `eu-west-1${"abc"[zone - 1]}`,
        subnetCidr: `10.${100 + i}.${zone}.0/24`,
      })),
      clientCidrs: [`10.${100 + i}.100.0/24`],
      instanceType: "t3.small",
      spec: { topology: { masterName: `redis-${i}` }, redis: { memory: { maxmemory: "1gb" } } },
    },
  }));
}
