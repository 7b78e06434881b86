import {
  AWS_REGION,
  maxmemoryProblem,
  parseKubernetesProps,
  prefixProblem,
  SNS_TOPIC_ARN,
  SpecError,
  TOKEN_AT_SYNTH,
  type KubernetesPropsInput,
  type SpecProblem,
} from "../../src/spec";

// Where the tests' pods hold their mounts and scripts: any absolute paths do.
const POD = {
  secretDir: "/pod/secret",
  tlsDir: "/pod/tls",
  notifyScripts: { notification: "/pod/config/notify.sh", clientReconfig: "/pod/config/client-reconfig.sh" },
};
const base: KubernetesPropsInput = { namespace: "spoke", passwordSecret: "redis-passwords" };
// What cdktf's Token.isUnresolved answers, for strings marked as tokens here.
const isToken = (value: unknown) => typeof value === "string" && value.startsWith("${TfToken[");

function problemsOf(props: unknown, isUnresolved?: (value: unknown) => boolean): readonly SpecProblem[] {
  try {
    parseKubernetesProps(props as KubernetesPropsInput, POD, isUnresolved);
  } catch (e) {
    if (e instanceof SpecError) return e.problems;
    throw e;
  }
  throw new Error("expected the props to be rejected");
}

test("the defaults pass together: maxmemory and the memory request fit the default 1Gi limit", () => {
  const resolved = parseKubernetesProps(base, POD);
  expect(resolved).toEqual(
    expect.objectContaining({
      namespace: "spoke",
      name: "redis",
      clusterDomain: "cluster.local",
      sentinels: "sidecar",
      passwordSecret: "redis-passwords",
      generatePasswords: false,
      image: "redis:7.2",
      storageSize: "10Gi",
      resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
      clients: [],
      monitoring: undefined,
      notifications: undefined,
    }),
  );
  expect(resolved.config.redis.memory.maxmemory).toBe("768mb");
  expect(resolved.config.auth.secrets).toEqual({ source: "directory", path: "/pod/secret" });
});

test("given values are kept, the defaults filled in around them", () => {
  const resolved = parseKubernetesProps(
    {
      ...base,
      resources: { limits: { memory: "128Mi" }, requests: { cpu: "1" } },
      monitoring: { peers: [{ podSelector: { app: "prometheus" } }] },
      notifications: { webhookUrlSecret: { name: "redis-webhook", key: "url" } },
      tlsSecret: "redis-tls",
      spec: { tls: { enabled: true } },
    },
    POD,
  );
  // A limit below the default request is the request too.
  expect(resolved.resources).toEqual({ requests: { cpu: "1", memory: "128Mi" }, limits: { memory: "128Mi" } });
  expect(resolved.monitoring).toEqual({ peers: [{ podSelector: { app: "prometheus" } }], image: "oliver006/redis_exporter:v1.45.0", prometheusRule: true });
  expect(resolved.config.sentinel.notificationScript).toBe("/pod/config/notify.sh");
  expect(resolved.config.sentinel.clientReconfigScript).toBe("/pod/config/client-reconfig.sh");
  expect(resolved.config.tls.certificates).toEqual({ source: "directory", path: "/pod/tls" });
});

test.each([
  ["resources.limits.memory", { resources: { limits: { memory: "2GB" } } }, '"2GB"', 'must be a quantity of bytes such as "2Gi" or "512Mi" (not "2GB", and "m" means thousandths)'],
  ["resources.requests.memory", { resources: { requests: { memory: "512m" } } }, '"512m"', 'must be a quantity of bytes such as "2Gi" or "512Mi" (not "2GB", and "m" means thousandths)'],
  ["resources.requests.cpu", { resources: { requests: { cpu: "half" } } }, '"half"', 'must be a CPU quantity such as "500m" or "2"'],
  ["storageSize", { storageSize: "10GB" }, '"10GB"', 'must be a Kubernetes quantity such as "10Gi" or "500Mi"'],
])("a bad quantity names its path: %s", (path, props, value, message) => {
  expect(problemsOf({ ...base, ...props })).toEqual([{ path, value, message }]);
});

test("one error lists every problem, the spec's under spec.", () => {
  expect(problemsOf({ ...base, name: "Redis", spec: { topology: { nodeCount: 4 } }, resources: { limits: { memory: "1Gi" } } }).map((p) => p.path)).toEqual([
    "name",
    "spec.topology.nodeCount",
  ]);
});

test("maxmemory above 75% of the memory limit is refused at the spec's path", () => {
  expect(problemsOf({ ...base, spec: { redis: { memory: { maxmemory: "900mb" } } } })).toEqual([
    {
      path: "spec.redis.memory.maxmemory",
      value: '"900mb"',
      message: "is above 75% of the Redis container's memory limit (1Gi): the pod would be killed before Redis evicts. Lower maxmemory, or raise resources.limits.memory",
    },
  ]);
});

test("Terraform tokens: refused where files and host names are rendered from them, returned as given elsewhere", () => {
  const image = "${TfToken[TOKEN.1]}";
  const resolved = parseKubernetesProps({ ...base, image, storageSize: "${TfToken[TOKEN.2]}" }, POD, isToken);
  expect(resolved.image).toBe(image);
  expect(resolved.storageSize).toBe("${TfToken[TOKEN.2]}");
  expect(problemsOf({ ...base, namespace: "${TfToken[TOKEN.3]}" }, isToken)).toEqual([
    { path: "namespace", value: "(a Terraform token)", message: TOKEN_AT_SYNTH },
  ]);
});

describe("prefixProblem", () => {
  const problem: SpecProblem = { path: "sentinel.quorum", value: "1", message: "must be at least 2" };

  test("places a problem under its prop", () => {
    expect(prefixProblem("spec.", problem)).toEqual({ ...problem, path: "spec.sentinel.quorum" });
    expect(prefixProblem("prod.cluster.", { ...problem, path: "nodes[0].privateIp" }).path).toBe("prod.cluster.nodes[0].privateIp");
  });

  test("a problem of the whole value takes the prop's own name; no prefix leaves the problem as it is", () => {
    expect(prefixProblem("spec.", { ...problem, path: "(spec)" }).path).toBe("spec");
    expect(prefixProblem("", problem)).toBe(problem);
  });
});

test("maxmemoryProblem: at the share it fits, above it the message says whose memory and what to do", () => {
  const node = { name: "the 1 GiB of instanceType t3.micro", consequence: "the node would run out of memory", fix: "choose a larger instanceType" };
  expect(maxmemoryProblem("768mb", 2 ** 30, node)).toBeUndefined();
  expect(maxmemoryProblem("769mb", 2 ** 30, node)).toEqual({
    path: "redis.memory.maxmemory",
    value: '"769mb"',
    message: "is above 75% of the 1 GiB of instanceType t3.micro: the node would run out of memory. Lower maxmemory, or choose a larger instanceType",
  });
});

test("one AWS region pattern, inside the SNS topic ARN too", () => {
  expect(["eu-west-1", "us-gov-west-1", "ap-southeast-7"].filter((r) => AWS_REGION.test(r))).toHaveLength(3);
  expect(["eu-west", "eu-west-12", "EU-west-1", "eu-west-1 "].filter((r) => AWS_REGION.test(r))).toEqual([]);
  expect(SNS_TOPIC_ARN.test("arn:aws:sns:eu-west-1:123456789012:redis-ha")).toBe(true);
  expect(SNS_TOPIC_ARN.test("arn:aws:sns:eu-west:123456789012:redis-ha")).toBe(false);
});
