import { z } from "zod";
import type { Ec2RedisSentinelProps } from "../constructs/ec2-redis-sentinel";

/** Where an environment's Terraform state lives. */
const backendSchema = z.discriminatedUnion(
  "type",
  [
    z.strictObject({ type: z.literal("local") }),
    z.strictObject({
      type: z.literal("s3"),
      bucket: z
        .string()
        .regex(
          /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
          "must be an S3 bucket name: 3 to 63 lower-case letters, digits, '.' and '-', such as my-terraform-state",
        ),
      /** @default `redis-sentinel/<environment>/terraform.tfstate` */
      key: z.string().optional(),
    }),
  ],
  { error: 'must be { type: "local" } or { type: "s3", bucket: "my-terraform-state" }' },
);

/** One environment: the settings of its stack. The cluster and its placement are validated by the construct. */
export const environmentSchema = z.strictObject({
  /** Short name; the stack is `redis-sentinel-<name>`. */
  name: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, "use lower-case letters, digits and '-', such as prod"),
  /** AWS region. */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region, such as eu-west-1"),
  backend: backendSchema,
  /** Props of the `Ec2RedisSentinel` construct except the region: network, clients, sizes and the cluster spec. */
  cluster: z.custom<Omit<Ec2RedisSentinelProps, "region">>((v) => typeof v === "object" && v !== null, "must be an object"),
});

export type Environment = z.input<typeof environmentSchema>;

// The example network: a VPC with one private subnet per availability zone, and Spoke's application subnets.
// Point an environment at your own VPC by replacing these ids and CIDRs (see the README).
const network = {
  vpcId: "vpc-0123456789abcdef0",
  nodes: [
    { subnetId: "subnet-0aaaaaaaaaaaaaaa1", availabilityZone: "eu-west-1a", subnetCidr: "10.20.1.0/24" },
    { subnetId: "subnet-0aaaaaaaaaaaaaaa2", availabilityZone: "eu-west-1b", subnetCidr: "10.20.2.0/24" },
    { subnetId: "subnet-0aaaaaaaaaaaaaaa3", availabilityZone: "eu-west-1c", subnetCidr: "10.20.3.0/24" },
  ],
  clientCidrs: ["10.20.100.0/24", "10.20.101.0/24"],
};

/** The example environments: dev small and cheap with local state, staging like prod, prod larger. */
export const ENVIRONMENTS: readonly Environment[] = [
  {
    name: "dev",
    region: "eu-west-1",
    backend: { type: "local" },
    cluster: {
      ...network,
      instanceType: "t3.micro",
      dataVolumeGiB: 5,
      spec: { redis: { memory: { maxmemory: "256mb" } } },
    },
  },
  {
    name: "staging",
    region: "eu-west-1",
    backend: { type: "s3", bucket: "example-terraform-state" },
    cluster: {
      ...network,
      instanceType: "t3.small",
      spec: { topology: { masterName: "spoke-redis" }, redis: { memory: { maxmemory: "1gb" } } },
      // Operations (issue #6): metrics for the Prometheus in the tools subnet, status-check alarms, daily backups.
      monitoring: { cidrs: ["10.20.50.0/24"] },
      alarms: true,
      backups: { retentionDays: 7 },
    },
  },
  {
    name: "prod",
    region: "eu-west-1",
    backend: { type: "s3", bucket: "example-terraform-state" },
    cluster: {
      ...network,
      instanceType: "r6i.large",
      dataVolumeGiB: 50,
      spec: { topology: { masterName: "spoke-redis" }, redis: { memory: { maxmemory: "12gb" } } },
    },
  },
];
