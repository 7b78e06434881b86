import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { parseSpec, SpecError, type RedisSentinelConfig } from "../src";
import type { Environment } from "./environments";

/**
 * The stack of one environment. It validates the environment's spec when the app is built, so a bad spec fails
 * `cdktf synth` with every problem before anything is created, and exposes the settings clients need as outputs.
 * The EC2 construct that provisions the nodes is added to this stack by the AWS issue.
 */
export class RedisSentinelStack extends TerraformStack {
  /** The environment's validated spec, every default applied. */
  readonly config: RedisSentinelConfig;

  constructor(scope: Construct, id: string, environment: Environment) {
    super(scope, id);
    this.config = parseEnvironmentSpec(environment);

    new AwsProvider(this, "aws", {
      region: environment.region,
      defaultTags: [{ tags: { "managed-by": "cdktf-redis-sentinel", environment: environment.name } }],
    });

    new TerraformOutput(this, "sentinel_master_name", {
      value: this.config.topology.masterName,
      description: "Name the sentinels monitor the master under (SENTINEL get-master-addr-by-name)",
    });
    new TerraformOutput(this, "sentinel_port", { value: this.config.sentinel.port });
    new TerraformOutput(this, "redis_port", { value: this.config.redis.port });
    new TerraformOutput(this, "sentinel_quorum", { value: this.config.sentinel.quorum });
  }
}

/** The environment's spec, validated; problems name the environment in their path. */
function parseEnvironmentSpec(environment: Environment): RedisSentinelConfig {
  try {
    return parseSpec(environment.spec);
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    throw new SpecError(e.problems.map((p) => ({ ...p, path: `${environment.name}.spec.${p.path}` })));
  }
}
