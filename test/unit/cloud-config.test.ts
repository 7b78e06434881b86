import { gzipSync } from "node:zlib";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { emptyMasterWaitSeconds, renderBootUnit, renderCloudConfig, renderSsmAgentScript, renderSsmAgentUnit, renderCluster, USER_DATA_LIMIT_BYTES } from "../../src/render";
import { parseSpec, type RedisSentinelSpec } from "../../src/spec";

const ssm = { secrets: { source: "ssm-parameters", path: "/redis-sentinel/dev", region: "eu-west-1" } } as const;
const addresses = ["10.0.1.10", "10.0.2.10", "10.0.3.10"];
const spec = (extra: Partial<RedisSentinelSpec> = {}) => parseSpec({ auth: ssm, ...extra });

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloud-config-test-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** `cloud-init schema` on a document: its exit status and what it printed. */
function schema(text: string) {
  const file = path.join(dir, `user-data-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(file, text);
  const result = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
  expect(result.error).toBeUndefined(); // cloud-init is installed (.ci/run installs it)
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("cloud-init schema", () => {
  test.each([0, 1, 2])("accepts node %i's user data", (index) => {
    const result = schema(renderCloudConfig(spec(), { addresses }, index, { dataDevice: "/dev/sdf" }));
    expect(result.output).toContain("Valid cloud-config");
    expect(result.status).toBe(0);
  });

  test("rejects a broken document, so the test above can fail", () => {
    const broken = renderCloudConfig(spec(), { addresses }, 0).replace("package_update: true", "package_update: sometimes");
    expect(schema(broken).status).not.toBe(0);
  });
});

describe("what the user data places", () => {
  const text = renderCloudConfig(spec(), { addresses }, 1, { dataDevice: "/dev/sdf" });
  const doc = parse(text);
  const node = renderCluster(spec(), { addresses })[1];
  const placed = (file: string) => doc.write_files.find((f: { path: string }) => f.path === file)?.content;

  test("starts with #cloud-config", () => expect(text.startsWith("#cloud-config\n")).toBe(true));

  test("the rendered configs, boot script and units, byte for byte", () => {
    expect(placed("/etc/redis-ha/redis.conf")).toBe(node.redisConf);
    expect(placed("/etc/redis-ha/sentinel.conf")).toBe(node.sentinelConf);
    expect(placed("/usr/local/sbin/redis-ha-boot")).toBe(node.bootScript);
    expect(placed("/etc/systemd/system/redis-ha-server.service")).toBe(node.units.redis);
    expect(placed("/etc/systemd/system/redis-ha-sentinel.service")).toBe(node.units.sentinel);
  });

  test("keeps Debian's own services from starting, then runs the boot script from its unit, at every boot", () => {
    expect(placed("/usr/sbin/policy-rc.d")).toContain("exit 101");
    expect(doc.runcmd).toEqual([
      "sysctl -p /etc/sysctl.d/60-redis-ha.conf",
      "rm -f /usr/sbin/policy-rc.d",
      "systemctl disable --now redis-server.service redis-sentinel.service",
      "systemctl daemon-reload",
      "systemctl enable --now redis-ha-boot.service",
    ]);
    const unit = placed("/etc/systemd/system/redis-ha-boot.service");
    expect(unit).toBe(renderBootUnit("/usr/local/sbin/redis-ha-boot", { dataDevice: "/dev/sdf", emptyMasterWaitSeconds: emptyMasterWaitSeconds(spec()) }));
    expect(unit).toContain("\nEnvironment=REDIS_HA_DATA_DEVICE=/dev/sdf\nExecStart=/usr/local/sbin/redis-ha-boot\n");
    expect(unit).toContain("\nBefore=redis-ha-server.service redis-ha-sentinel.service\n");
    expect(unit).toContain("\nRestart=on-failure\n");
    expect(unit).toContain("\nWantedBy=multi-user.target\n");
  });

  test.each([180_000, 900_000])("gives the boot longer than its empty-master wait (failoverTimeout %i ms)", (failoverTimeout) => {
    const config = spec({ sentinel: { failoverTimeout } });
    const unit = parse(renderCloudConfig(config, { addresses }, 0, { dataDevice: "/dev/sdf" })).write_files.find(
      (f: { path: string }) => f.path === "/etc/systemd/system/redis-ha-boot.service",
    ).content as string;
    const timeout = Number(/^TimeoutStartSec=(\d+)$/m.exec(unit)?.[1]);
    const wait = emptyMasterWaitSeconds(config);
    expect(wait).toBeGreaterThanOrEqual(300);
    expect(timeout).toBeGreaterThanOrEqual(wait + 300);
    expect(renderCluster(config, { addresses })[0].bootScript).toContain(`REDIS_HA_WAIT_SECONDS:-${wait}}`);
  });

  test("installs the distribution's packages, awscli only to read an SSM parameter", () => {
    expect(doc.packages).toEqual(["redis-server", "redis-sentinel", "redis-tools", "awscli", "amazon-ec2-utils"]);
    const local = parse(renderCloudConfig(parseSpec({ auth: { secrets: { source: "env", prefix: "P_" } } }), { addresses }, 0));
    expect(local.packages).toEqual(["redis-server", "redis-sentinel", "redis-tools"]);
    expect(local.runcmd[4]).toBe("systemctl enable --now redis-ha-boot.service");
    expect(local.write_files.find((f: { path: string }) => f.path === "/etc/systemd/system/redis-ha-boot.service").content).not.toContain(
      "REDIS_HA_DATA_DEVICE",
    );
  });

  test("sets vm.overcommit_memory = 1 (Redis's admin guide) in sysctl.d, and applies it before Redis starts", () => {
    expect(placed("/etc/sysctl.d/60-redis-ha.conf")).toMatch(/^vm\.overcommit_memory = 1$/m);
    const applied = doc.runcmd.indexOf("sysctl -p /etc/sysctl.d/60-redis-ha.conf");
    expect(applied).toBeGreaterThanOrEqual(0);
    expect(applied).toBeLessThan(doc.runcmd.findIndex((c: string) => c.includes("redis-ha-boot")));
  });

  test("fetches the passwords at boot, and holds none", () => {
    expect(node.bootScript).toContain(
      'if value="$(aws ssm get-parameter --region eu-west-1 --name "/redis-sentinel/dev/$1" --with-decryption --query Parameter.Value --output text)"; then break; fi',
    );
    expect(text).not.toMatch(/^\s*(requirepass|masterauth|sentinel auth-pass|sentinel sentinel-pass) "/m);
  });
});

test.each([3, 5, 9])("the user data of a %i-node cluster with both scripts, ACL and TLS fits EC2's 16 KB gzipped", (nodeCount) => {
  const big = spec({
    topology: { nodeCount, masterName: "a-rather-long-master-name-for-spoke-redis" },
    sentinel: { notificationScript: "/etc/redis-ha/notify.sh", clientReconfigScript: "/etc/redis-ha/reconfig.sh" },
    acl: { users: [{ name: "spoke" }, { name: "reports", rules: "~* -@all +@read" }] },
    tls: { enabled: true, certificates: { source: "ssm-parameters", path: "/redis-sentinel/dev/tls", region: "eu-west-1" } },
  });
  const many = Array.from({ length: nodeCount }, (_, i) => `10.100.${i}.200`);
  for (let i = 0; i < nodeCount; i++) {
    // The construct has Terraform gzip the user data (base64GzipExpression); cloud-init reads it gzipped.
    const bytes = gzipSync(renderCloudConfig(big, { addresses: many }, i, { dataDevice: "/dev/sdf" })).length;
    expect(bytes).toBeLessThan(USER_DATA_LIMIT_BYTES);
  }
});

describe("the SSM Agent for Session Manager", () => {
  const agent = { region: "eu-west-1", architecture: "arm64" } as const;
  const doc = parse(renderCloudConfig(spec(), { addresses }, 0, { dataDevice: "/dev/sdf", ssmAgent: agent }));
  const placed = (file: string) => doc.write_files.find((f: { path: string }) => f.path === file);
  const script = renderSsmAgentScript(agent);

  test("is downloaded from AWS's bucket of the region, for the node's architecture, over HTTPS only", () => {
    expect(script).toContain("url='https://s3.eu-west-1.amazonaws.com/amazon-ssm-eu-west-1/latest/debian_arm64/amazon-ssm-agent.deb'");
    expect(script).toContain("--proto =https");
    expect(script).toContain('dpkg -i "$dir/amazon-ssm-agent.deb"');
    expect(doc.packages).toContain("curl");
  });

  test("has a unit of its own, started without waiting, so that its failure holds up neither Redis nor cloud-init", () => {
    expect(placed("/usr/local/sbin/redis-ha-ssm-agent")).toMatchObject({ content: script, permissions: "0755" });
    expect(placed("/etc/systemd/system/redis-ha-ssm-agent.service")?.content).toBe(renderSsmAgentUnit("/usr/local/sbin/redis-ha-ssm-agent"));
    expect(placed("/etc/systemd/system/redis-ha-ssm-agent.service")?.content).not.toMatch(/^(Before|RequiredBy)=/m);
    const runcmd = doc.runcmd as string[];
    expect(runcmd).toContain("systemctl enable redis-ha-ssm-agent.service");
    expect(runcmd).toContain("systemctl start --no-block redis-ha-ssm-agent.service");
    expect(runcmd.indexOf("systemctl start --no-block redis-ha-ssm-agent.service")).toBeLessThan(runcmd.indexOf("systemctl enable --now redis-ha-boot.service"));
  });

  test("passes shellcheck", () => {
    const result = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "-"], { input: script, encoding: "utf8" });
    expect(result.error).toBeUndefined();
    expect(result.stdout).toBe("");
    expect(result.status).toBe(0);
  });

  test("is left out when not asked for", () => {
    const plain = parse(renderCloudConfig(spec(), { addresses }, 0, { dataDevice: "/dev/sdf" }));
    expect(JSON.stringify(plain)).not.toContain("ssm-agent");
    expect(plain.packages).not.toContain("curl");
  });

  test("refuses a region that is not an AWS region's name", () => {
    expect(() => renderSsmAgentScript({ region: "eu-west-1'; reboot; '", architecture: "amd64" })).toThrow('region: "eu-west-1\'; reboot; \'" is not an AWS region name');
  });
});
