import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { LocalBackend, S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { Ec2RedisSentinel } from "../constructs/ec2-redis-sentinel";
import { SpecError } from "../src";
import { prefixProblem, toProblems } from "../src/spec/parse";
import { environmentSchema, type Environment } from "./environments";

/** The Terraform versions a stack needs, by backend. */
export const REQUIRED_TERRAFORM = { s3: ">= 1.10.0", local: ">= 1.2.0" } as const;

/**
 * The stack of one environment: its own state, the AWS provider, the Redis Sentinel cluster, and the outputs
 * its clients need. A bad environment fails `cdktf synth` with every problem, under the environment's name,
 * before any resource is created.
 */
export class Ec2RedisSentinelStack extends TerraformStack {
  readonly cluster: Ec2RedisSentinel;

  constructor(scope: Construct, id: string, input: Environment) {
    super(scope, id);
    const where = `${typeof input?.name === "string" ? input.name : "environment"}.`;
    const parsed = environmentSchema.safeParse(input, { reportInput: true });
    if (!parsed.success) throw new SpecError(toProblems(parsed.error.issues, where));
    const environment = parsed.data;

    // The cluster first: a bad cluster fails before the stack holds a backend or a provider.
    try {
      this.cluster = new Ec2RedisSentinel(this, "redis-sentinel", {
        parameterPath: `/redis-sentinel/${environment.name}`,
        ...environment.cluster,
        region: environment.region,
      });
    } catch (e) {
      if (!(e instanceof SpecError)) throw e;
      throw new SpecError(e.problems.map((p) => prefixProblem(`${where}cluster.`, p)));
    }

    if (environment.backend.type === "s3") {
      new S3Backend(this, {
        bucket: environment.backend.bucket,
        key: environment.backend.key ?? `redis-sentinel/${environment.name}/terraform.tfstate`,
        region: environment.region,
        encrypt: true,
      });
      // S3-native state locking (Terraform 1.10+), which cdktf 0.21's S3Backend has no property for.
      this.addOverride("terraform.backend.s3.use_lockfile", true);
    } else {
      new LocalBackend(this, { path: `terraform.${id}.tfstate` });
    }
    // The oldest Terraform that reads this stack: use_lockfile needs 1.10; the construct's plan-time checks
    // (postconditions) and replace_triggered_by need 1.2.
    this.addOverride("terraform.required_version", REQUIRED_TERRAFORM[environment.backend.type]);

    new AwsProvider(this, "aws", {
      region: environment.region,
      defaultTags: [{ tags: { "managed-by": "cdktf-redis-sentinel", environment: environment.name } }],
    });

    const c = this.cluster;
    new TerraformOutput(this, "sentinel_endpoints", { value: c.sentinelEndpoints });
    new TerraformOutput(this, "sentinel_master_name", { value: c.masterName });
    new TerraformOutput(this, "security_group_id", { value: c.securityGroupId });
    new TerraformOutput(this, "password_parameters", {
      value: c.passwordParameterNames,
      description: "SSM SecureStrings holding the passwords, by key; Spoke logs in as app with app-password",
    });
    new TerraformOutput(this, "spoke_redis_url", { value: c.sentinelUrl, description: "SPOKE_REDIS_URL" });
  }
}
