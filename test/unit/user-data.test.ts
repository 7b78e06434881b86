import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clusterFromUserData, userDataOfStack } from "../../src/local";
import { base64GzipExpression, renderCloudConfig, renderCluster } from "../../src/render";
import { parseSpec } from "../../src/spec";

const config = parseSpec({
  topology: { masterName: "spoke-redis" },
  auth: { secrets: { source: "ssm-parameters", path: "/redis-sentinel/dev", region: "eu-west-1" } },
});
// 10.0.1.1 is a prefix of 10.0.1.10 and 10.0.1.100: only whole addresses may be replaced.
const deployed = ["10.0.1.10", "10.0.1.1", "10.0.1.100"];
const userData = deployed.map((_, i) => renderCloudConfig(config, { addresses: deployed }, i, { dataDevice: "/dev/sdf" }));

test("the configs in user data, moved to loopback, are what the renderer makes for loopback: only addresses differ", () => {
  const local = ["127.0.6.11", "127.0.6.12", "127.0.6.13"];
  const moved = clusterFromUserData(userData, "127.0.6.11");
  const direct = renderCluster(config, { addresses: local });
  expect(moved.masterName).toBe("spoke-redis");
  expect([moved.redisPort, moved.sentinelPort]).toEqual([6379, 26379]);
  moved.nodes.forEach((node, i) => {
    expect(node.address).toBe(local[i]);
    expect(node.deployedAddress).toBe(deployed[i]);
    expect(node.redisConf).toBe(direct[i].redisConf);
    expect(node.sentinelConf).toBe(direct[i].sentinelConf);
    expect(node.bootScript).toBe(direct[i].bootScript);
  });
});

test("user data that is not ours is refused with the reason", () => {
  expect(() => clusterFromUserData(["#cloud-config\npackages: [redis-server]\n"])).toThrow(
    "the user data of node 0 holds no /etc/redis-ha/redis.conf",
  );
});

describe("userDataOfStack", () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "user-data-test-"));
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test("reads every node's user data from a synthesized stack, in node order", () => {
    const instance = (i: number) => ({ "//": { metadata: { path: `s/redis/node-${i}` } }, user_data_base64: base64GzipExpression(userData[i]) });
    fs.mkdirSync(path.join(outdir, "stacks", "s"), { recursive: true });
    fs.writeFileSync(
      path.join(outdir, "stacks", "s", "cdk.tf.json"),
      JSON.stringify({ resource: { aws_instance: { c: instance(2), a: instance(0), b: instance(1) } } }),
    );
    expect(userDataOfStack(outdir, "s")).toEqual(userData);
  });

  test("says to synthesize first when the stack is missing", () => {
    expect(() => userDataOfStack(outdir, "nope")).toThrow(
      `${path.join(outdir, "stacks", "nope", "cdk.tf.json")} does not exist: synthesize first (npm run synth)`,
    );
  });
});
