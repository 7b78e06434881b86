import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Testing, type TerraformStack } from "cdktf";
import type { RedisSentinelSpec } from "../../src";
import { buildApp } from "../../stacks/app";
import { ENVIRONMENTS } from "../../stacks/environments";
import { RedisSentinelStack } from "../../stacks/redis-sentinel-stack";

const stacksOf = (app: ReturnType<typeof buildApp>) =>
  app.node.children.filter((c): c is TerraformStack => c instanceof RedisSentinelStack);

describe("the example app", () => {
  const app = buildApp(ENVIRONMENTS, Testing.app());

  test("has one stack per environment", () => {
    expect(stacksOf(app).map((s) => s.node.id)).toEqual([
      "redis-sentinel-dev",
      "redis-sentinel-staging",
      "redis-sentinel-prod",
    ]);
  });

  test.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("%s: the AWS provider is typed and tagged", (name, env) => {
    const stack = app.node.findChild(`redis-sentinel-${name}`) as TerraformStack;
    expect(Testing.synth(stack)).toHaveProviderWithProperties(AwsProvider, {
      region: env.region,
      default_tags: [{ tags: { "managed-by": "cdktf-redis-sentinel", environment: name } }],
    });
  });

  test("outputs the settings clients need, from the validated spec", () => {
    const prod = JSON.parse(Testing.synth(app.node.findChild("redis-sentinel-prod") as TerraformStack));
    expect(prod.output).toMatchObject({
      sentinel_master_name: { value: "spoke-redis" },
      sentinel_port: { value: 26379 },
      redis_port: { value: 6379 },
      sentinel_quorum: { value: 2 },
    });
  });
});

test("a bad environment spec fails the app with every problem, under the environment's name", () => {
  expect(() =>
    buildApp(
      // Deliberately invalid: no auth, which the type would also refuse.
      [{ name: "dev", region: "eu-west-1", spec: { topology: { nodeCount: 2 }, sentinel: { failoverTimeout: 100 } } as RedisSentinelSpec }],
      Testing.app(),
    ),
  ).toThrow(
    "Invalid Redis Sentinel spec (3 problems):\n" +
      "  - dev.spec.topology.nodeCount = 2: a Sentinel cluster needs at least 3 nodes so that a majority survives one failure. Use 3, 5 or 7\n" +
      '  - dev.spec.auth = (missing): a password is required: add auth: { password: { source: "env", name: "REDIS_PASSWORD" } }\n' +
      "  - dev.spec.sentinel.failoverTimeout = 100: must be greater than sentinel.downAfterMilliseconds (5000). Use at least twice it, such as 10000",
  );
});

describe("the synth commands write cdk.tf.json for every stack", () => {
  const root = path.join(__dirname, "..", "..");
  const bin = (name: string) => path.join(root, "node_modules", ".bin", name);
  // CHECKPOINT_DISABLE: no version check against the network.
  const env = { ...process.env, CHECKPOINT_DISABLE: "1" };

  test.each([
    ["npm run synth", (outdir: string) => spawnSync(bin("tsx"), ["stacks/main.ts"], { cwd: root, encoding: "utf8", env: { ...env, CDKTF_OUTDIR: outdir } })],
    ["cdktf synth", (outdir: string) => spawnSync(bin("cdktf"), ["synth", "--output", outdir], { cwd: root, encoding: "utf8", env })],
  ])("%s", (_, run) => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "synth-"));
    try {
      const result = run(outdir);
      expect(result.status).toBe(0);
      for (const name of ["dev", "staging", "prod"]) {
        const file = path.join(outdir, "stacks", `redis-sentinel-${name}`, "cdk.tf.json");
        expect(JSON.parse(fs.readFileSync(file, "utf8")).provider.aws[0].region).toBe("eu-west-1");
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  }, 60_000);
});
