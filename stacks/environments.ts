import { z } from "zod";
import { AWS_REGION } from "../src/spec/aws";
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
  region: z.string().regex(AWS_REGION, "must be an AWS region, such as eu-west-1"),
  backend: backendSchema,
  /** Props of the `Ec2RedisSentinel` construct except the region: network, clients, sizes and the cluster spec. */
  cluster: z.custom<Omit<Ec2RedisSentinelProps, "region">>((v) => typeof v === "object" && v !== null, "must be an object"),
});

export type Environment = z.input<typeof environmentSchema>;

// The example network: one VPC holding every environment, each with one private subnet per availability zone of
// its own (so that the stacks of one VPC never claim the same address), and Spoke's application subnets. Point an
// environment at your own VPC by replacing these ids and CIDRs (see the README).
const VPC_ID = "vpc-0123456789abcdef0";
const CLIENT_CIDRS = ["10.20.100.0/24", "10.20.101.0/24"];

/** The example subnets of one environment: `10.20.<base + 1..3>.0/24` in eu-west-1a..c, nodes on host 10 of each. */
function exampleNetwork(subnetIdPrefix: string, base: number) {
  return {
    vpcId: VPC_ID,
    nodes: ["a", "b", "c"].map((zone, i) => ({
      subnetId: `${subnetIdPrefix}${i + 1}`,
      availabilityZone: `eu-west-1${zone}`,
      subnetCidr: `10.20.${base + i + 1}.0/24`,
    })),
    clientCidrs: CLIENT_CIDRS,
  };
}

/** The example environments: dev small and cheap with local state, staging like prod, prod larger. */
export const ENVIRONMENTS: readonly Environment[] = [
  {
    name: "dev",
    region: "eu-west-1",
    backend: { type: "local" },
    cluster: {
      ...exampleNetwork("subnet-0aaaaaaaaaaaaaaa", 0),
      instanceType: "t3.micro",
      dataVolumeGiB: 5,
      // A throw-away environment: `cdktf destroy` deletes its data volumes (after a final snapshot).
      removalPolicy: "destroy",
      spec: { redis: { memory: { maxmemory: "256mb" } } },
    },
  },
  {
    name: "staging",
    region: "eu-west-1",
    backend: { type: "s3", bucket: "example-terraform-state" },
    cluster: {
      ...exampleNetwork("subnet-0bbbbbbbbbbbbbbb", 10),
      instanceType: "t3.small",
      spec: { topology: { masterName: "spoke-redis" }, redis: { memory: { maxmemory: "1gb" } } },
      // Operations: metrics for the Prometheus in the tools subnet, status-check alarms, daily backups.
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
      ...exampleNetwork("subnet-0ccccccccccccccc", 20),
      instanceType: "r6i.large",
      dataVolumeGiB: 50,
      spec: { topology: { masterName: "spoke-redis" }, redis: { memory: { maxmemory: "12gb" } } },
    },
  },
];
