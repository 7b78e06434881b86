import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Testing, type TerraformStack } from "cdktf";
import { gzipSync } from "node:zlib";
import { parse } from "yaml";
import { textOfBase64GzipExpression, USER_DATA_LIMIT_BYTES } from "../../src";
import { buildApp } from "../../stacks/app";
import { ENVIRONMENTS, type Environment } from "../../stacks/environments";
import { Ec2RedisSentinelStack } from "../../stacks/ec2-stack";

const app = buildApp(ENVIRONMENTS, Testing.app());
const stack = (name: string) => app.node.findChild(`redis-sentinel-${name}`) as Ec2RedisSentinelStack;
const synthesized = (name: string) => JSON.parse(Testing.synth(stack(name) as TerraformStack));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "stacks-test-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test("one stack per environment", () => {
  expect(app.node.children.filter((c) => c instanceof Ec2RedisSentinelStack).map((s) => s.node.id)).toEqual([
    "redis-sentinel-dev",
    "redis-sentinel-staging",
    "redis-sentinel-prod",
  ]);
});

describe.each(["dev", "staging", "prod"])("%s", (name) => {
  const json = synthesized(name);
  const userData: string[] = Object.values(json.resource.aws_instance).map((i: any) =>
    textOfBase64GzipExpression(i.user_data_base64)!,
  );

  test("a typed, tagged AWS provider", () => {
    expect(Testing.synth(stack(name))).toHaveProviderWithProperties(AwsProvider, {
      region: "eu-west-1",
      default_tags: [{ tags: { "managed-by": "cdktf-redis-sentinel", environment: name } }],
    });
  });

  test("the Terraform it needs: 1.10 for S3 state locking (use_lockfile), else 1.2 for the plan-time checks", () => {
    expect(json.terraform.required_version).toBe(name === "dev" ? ">= 1.2.0" : ">= 1.10.0");
  });

  test("its own state", () => {
    const expected =
      name === "dev"
        ? { local: { path: "terraform.redis-sentinel-dev.tfstate" } }
        : {
            s3: {
              bucket: "example-terraform-state",
              key: `redis-sentinel/${name}/terraform.tfstate`,
              region: "eu-west-1",
              encrypt: true,
              use_lockfile: true,
            },
          };
    expect(json.terraform.backend).toEqual(expected);
  });

  test("outputs for clients, and its own password parameter", () => {
    const master = name === "dev" ? "mymaster" : "spoke-redis";
    // Each environment has subnets of its own: 10.20.1-3 (dev), 10.20.11-13 (staging), 10.20.21-23 (prod).
    const base = { dev: 0, staging: 10, prod: 20 }[name]!;
    const endpoints = [1, 2, 3].map((k) => `10.20.${base + k}.10:26379`);
    expect(json.output).toMatchObject({
      sentinel_endpoints: { value: endpoints },
      sentinel_master_name: { value: master },
      password_parameters: {
        value: {
          "app-password": `/redis-sentinel/${name}/app-password`,
          "admin-password": `/redis-sentinel/${name}/admin-password`,
          "replication-password": `/redis-sentinel/${name}/replication-password`,
          "sentinel-password": `/redis-sentinel/${name}/sentinel-password`,
        },
      },
      spoke_redis_url: {
        value: `redis://${master}@${endpoints.join(",")}/master/${master}`,
      },
    });
    expect(json.output.security_group_id.value).toMatch(/^\$\{aws_security_group\.[\w-]+\.id\}$/);
  });

  test("every node's user data is valid cloud-config, under 16 KB gzipped, with a boot script that passes shellcheck", () => {
    expect(userData).toHaveLength(3);
    userData.forEach((text, i) => {
      expect(gzipSync(text).length).toBeLessThan(USER_DATA_LIMIT_BYTES);
      const file = path.join(tmp, `${name}-${i}.yaml`);
      fs.writeFileSync(file, text);
      const schema = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
      expect(`${schema.stdout}${schema.stderr}`).toContain("Valid cloud-config");
      expect(schema.status).toBe(0);
      const boot = parse(text).write_files.find((f: { path: string }) => f.path === "/usr/local/sbin/redis-ha-boot");
      const shellcheck = spawnSync("shellcheck", ["--shell=bash", "-"], { input: boot.content, encoding: "utf8" });
      expect(shellcheck.stdout).toBe("");
      expect(shellcheck.status).toBe(0);
    });
  });
});

test("staging turns on the operations: exporter rules, status-check alarms, backups with DLM snapshots", () => {
  const json = synthesized("staging");
  const on9121 = Object.values(json.resource.aws_vpc_security_group_ingress_rule).filter((r: any) => r.from_port === 9121);
  expect(on9121).toEqual([expect.objectContaining({ cidr_ipv4: "10.20.50.0/24" })]);
  expect(Object.keys(json.resource.aws_cloudwatch_metric_alarm)).toHaveLength(3);
  expect(Object.keys(json.resource.aws_s3_bucket)).toHaveLength(1);
  expect(Object.keys(json.resource.aws_dlm_lifecycle_policy)).toHaveLength(1);
  expect(synthesized("prod").resource.aws_s3_bucket).toBeUndefined();
});

test("the Kubernetes environment synthesizes with no cluster reachable, with the outputs its clients need", () => {
  const k8s = JSON.parse(Testing.synth(app.node.findChild("redis-sentinel-k8s-dev") as TerraformStack));
  expect(k8s.provider.kubernetes[0]).toEqual({ config_path: "~/.kube/config", config_context: "dev" });
  expect(k8s.terraform.backend).toEqual({ local: { path: "terraform.redis-sentinel-k8s-dev.tfstate" } });
  expect(k8s.output).toMatchObject({
    sentinel_service: { value: "redis-sentinel.spoke.svc.cluster.local:26379" },
    sentinel_master_name: { value: "spoke-redis" },
    password_secret: { value: "redis-passwords" },
    spoke_redis_url: { value: "redis://spoke-redis@redis-sentinel.spoke.svc.cluster.local:26379/master/spoke-redis" },
  });
  expect(Object.keys(k8s.resource).sort()).toEqual([
    "kubernetes_config_map_v1",
    "kubernetes_network_policy_v1",
    "kubernetes_pod_disruption_budget_v1",
    "kubernetes_service_v1",
    "kubernetes_stateful_set_v1",
  ]);
});

describe("bad environment files fail the app with every problem, under the environment's name", () => {
  const [dev] = ENVIRONMENTS;
  const build = (env: Record<string, unknown>) => () => buildApp([env as Environment], Testing.app());
  const withCluster = (cluster: Record<string, unknown>) => build({ ...dev, cluster: { ...dev.cluster, ...cluster } });
  const nodes = dev.cluster.nodes;

  test.each<[string, () => unknown, string]>([
    [
      "an even node count",
      withCluster({ spec: { topology: { nodeCount: 4 } } }),
      "  - dev.cluster.spec.topology.nodeCount = 4: must be odd, so that the sentinels always form a majority. Use 3, 5 or 7",
    ],
    [
      "a client CIDR open to the world",
      withCluster({ clientCidrs: ["0.0.0.0/0"] }),
      '  - dev.cluster.clientCidrs[0] = "0.0.0.0/0": opens Redis and Sentinel to every address on the internet. Name the CIDRs of the clients, such as the application subnets',
    ],
    [
      "an IPv6 client CIDR open to the world",
      withCluster({ clientCidrs: ["::/0"] }),
      '  - dev.cluster.clientCidrs[0] = "::/0": opens Redis and Sentinel to every address on the internet. Name the CIDRs of the clients, such as the application subnets',
    ],
    [
      "a quorum below the majority",
      withCluster({ spec: { sentinel: { quorum: 1 } } }),
      "  - dev.cluster.spec.sentinel.quorum = 1: is less than a majority of 3 sentinels, so a minority could start a failover. Use 2 to 3",
    ],
    [
      "an address outside its subnet",
      withCluster({ nodes: [{ ...nodes[0], privateIp: "10.20.2.50" }, nodes[1], nodes[2]] }),
      '  - dev.cluster.nodes[0].privateIp = "10.20.2.50": is outside its subnet 10.20.1.0/24',
    ],
    [
      "two nodes on one address",
      withCluster({ nodes: [nodes[0], { ...nodes[1], subnetCidr: "10.20.1.0/24", privateIp: "10.20.1.10" }, nodes[2]] }),
      '  - dev.cluster.nodes[1].privateIp = "10.20.1.10": is also the address of node 0: every node needs its own address',
    ],
    [
      "a majority of the nodes in one availability zone",
      withCluster({ nodes: [nodes[0], { ...nodes[1], availabilityZone: "eu-west-1a" }, nodes[2]] }),
      '  - dev.cluster.nodes[1].availabilityZone = "eu-west-1a": nodes 0, 1 share eu-west-1a, a majority of 3: losing that zone loses the quorum. Spread the nodes over more zones, or set spreadAcrossAvailabilityZones: false',
    ],
    [
      "an unknown backend",
      build({ ...dev, backend: { type: "consul" } }),
      '  - dev.backend.type = {"type":"consul"}: must be { type: "local" } or { type: "s3", bucket: "my-terraform-state" }',
    ],
  ])("%s", (_, run, line) => {
    let message = "";
    try {
      run();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.split("\n")).toEqual(["Invalid Redis Sentinel spec (1 problem):", line]);
  });
});

describe("the synth commands write cdk.tf.json for every stack", () => {
  const root = path.join(__dirname, "..", "..");
  const bin = (name: string) => path.join(root, "node_modules", ".bin", name);
  // CHECKPOINT_DISABLE: no version check against the network.
  const env = { ...process.env, CHECKPOINT_DISABLE: "1" };

  test.each([
    ["npm run synth", (outdir: string) => spawnSync(bin("tsx"), ["stacks/main.ts"], { cwd: root, encoding: "utf8", env: { ...env, CDKTF_OUTDIR: outdir } })],
    ["cdktf synth", (outdir: string) => spawnSync(bin("cdktf"), ["synth", "--output", outdir], { cwd: root, encoding: "utf8", env })],
  ])("%s", (command, run) => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "synth-"));
    try {
      const result = run(outdir);
      expect(result.status).toBe(0);
      // npm run synth says what it wrote, a line per stack.
      if (command === "npm run synth") {
        for (const stack of ["redis-sentinel-dev", "redis-sentinel-staging", "redis-sentinel-prod", "redis-sentinel-k8s-dev"]) {
          expect(result.stdout).toMatch(new RegExp(`^wrote \\S*${stack}/cdk\\.tf\\.json: \\d+ resources$`, "m"));
        }
      }
      for (const name of ["dev", "staging", "prod"]) {
        const file = path.join(outdir, "stacks", `redis-sentinel-${name}`, "cdk.tf.json");
        expect(Object.keys(JSON.parse(fs.readFileSync(file, "utf8")).resource.aws_instance)).toHaveLength(3);
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  }, 60_000);
});

test("the example environments share a VPC but no subnet and no node address", () => {
  const placements = ["dev", "staging", "prod"].map((name) => stack(name).cluster.placement);
  expect(new Set(placements.map((p) => p.vpcId)).size).toBe(1);
  const subnets = placements.flatMap((p) => p.nodes.map((n) => n.subnetId));
  const addresses = placements.flatMap((p) => p.nodes.map((n) => n.privateIp));
  expect(new Set(subnets).size).toBe(9);
  expect(new Set(addresses).size).toBe(9);
});

test("two environments claiming one address in one VPC fail synthesis, naming both", () => {
  const [dev, staging] = ENVIRONMENTS;
  const copy = { ...staging, cluster: { ...staging.cluster, nodes: dev.cluster.nodes } } as Environment;
  expect(() => buildApp([dev, copy], Testing.app(), [])).toThrow(
    "Invalid Redis Sentinel spec (3 problems):\n" +
      [1, 2, 3]
        .map((k, i) => `  - staging.cluster.nodes[${i}].privateIp = "10.20.${k}.10": is also an address of environment dev in vpc-0123456789abcdef0: give each environment its own subnets or addresses`)
        .join("\n"),
  );
  // Another VPC may reuse the addresses.
  const elsewhere = { ...copy, cluster: { ...copy.cluster, vpcId: "vpc-0fedcba9876543210" } } as Environment;
  expect(() => buildApp([dev, elsewhere], Testing.app(), [])).not.toThrow();
});

test("dev is a throw-away environment (removalPolicy destroy); staging and prod keep their data", () => {
  const volumes = (name: string) => Object.values(synthesized(name).resource.aws_ebs_volume) as any[];
  expect(volumes("dev").every((v) => v.lifecycle.prevent_destroy === false && v.final_snapshot === true)).toBe(true);
  for (const name of ["staging", "prod"]) expect(volumes(name).every((v) => v.lifecycle.prevent_destroy === true)).toBe(true);
  expect((Object.values(synthesized("staging").resource.aws_s3_bucket)[0] as any).lifecycle).toEqual({ prevent_destroy: true });
});

test("Terraform evaluates no text of ours: every ${ and %{ in a stack is a reference of its own or escaped", () => {
  // Terraform reads every string as a template. A shell script's ${HOME} left as it is would fail at plan.
  // Our own expressions: references, base64gzip of the user data, and the conditions of the plan-time checks (self).
  const expressions = /^(\$\{)(data|aws_|kubernetes_|var\.|local\.|uuid\(\)|base64gzip\("|self\.|contains\(self\.)/;
  for (const id of ["redis-sentinel-dev", "redis-sentinel-staging", "redis-sentinel-prod", "redis-sentinel-k8s-dev"]) {
    const text = JSON.stringify(JSON.parse(Testing.synth(app.node.findChild(id) as TerraformStack)));
    const strings: string[] = [];
    JSON.parse(text, (_key, value) => {
      if (typeof value === "string") strings.push(value);
      return value;
    });
    for (const value of strings) {
      const inner = textOfBase64GzipExpression(value);
      const template = inner === undefined ? value : "";
      for (const match of template.matchAll(/(?<!\$)\$\{|(?<!%)%\{/g)) {
        expect(template.slice(match.index!, match.index! + 40)).toMatch(expressions);
      }
    }
  }
});
