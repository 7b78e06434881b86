import type { Ec2RedisSentinelProps } from "../../constructs/ec2-redis-sentinel";

/** Three nodes in three zones of a VPC that exists only in these tests, with the passwords under a test path. */
export const EC2_PLACEMENT = {
  region: "eu-west-1",
  vpcId: "vpc-0123456789abcdef0",
  nodes: [
    { subnetId: "subnet-a", availabilityZone: "eu-west-1a", subnetCidr: "10.20.1.0/24" },
    { subnetId: "subnet-b", availabilityZone: "eu-west-1b", subnetCidr: "10.20.2.0/24" },
    { subnetId: "subnet-c", availabilityZone: "eu-west-1c", subnetCidr: "10.20.3.0/24" },
  ],
  parameterPath: "/redis-sentinel/test",
} as const satisfies Ec2RedisSentinelProps;
