import type { RedisSentinelSpec } from "../src";

/** One deployment environment: where it runs and the Redis Sentinel spec it runs. */
export interface Environment {
  /** Short name; the stack is `redis-sentinel-<name>`. */
  readonly name: string;
  /** AWS region. */
  readonly region: string;
  /** The cluster's spec, validated when the stack is built (see the README's spec reference). */
  readonly spec: RedisSentinelSpec;
}

// Until the EC2 construct lands, the password reference points at the environment variable the boot script reads.
const auth = { password: { source: "env", name: "REDIS_PASSWORD" } } as const;

/** The example environments: dev small and cheap, staging like prod, prod with Spoke's master name. */
export const ENVIRONMENTS: readonly Environment[] = [
  {
    name: "dev",
    region: "eu-west-1",
    spec: { redis: { memory: { maxmemory: "256mb" } }, auth },
  },
  {
    name: "staging",
    region: "eu-west-1",
    spec: { topology: { masterName: "spoke-redis" }, redis: { memory: { maxmemory: "1gb" } }, auth },
  },
  {
    name: "prod",
    region: "eu-west-1",
    spec: { topology: { masterName: "spoke-redis" }, redis: { memory: { maxmemory: "2gb" } }, auth },
  },
];
