// The npm package as another repository gets it: `npm pack` (which builds), the tarball installed into a fresh
// cdktf app in a temporary directory, that app type-checked against the shipped declarations and synthesized.
//
// How the consumer gets its dependencies, with no registry: the tarball and its runtime dependencies (zod, yaml,
// ioredis, ipaddr.js and theirs) are installed by `npm ci --offline` from a lock file written here, whose entries are
// copied from this repository's package-lock.json, so npm takes them from its cache, where this repository's own
// `npm ci` put them. The peers (cdktf, constructs and the two providers, 550 MB) are symlinked from this repository's
// node_modules after the install: copying them would take longer than the rest of the test.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { textOfBase64GzipExpression } from "../../src/render";

const REPO = path.resolve(__dirname, "../..");
const NAME = "cdktf-redis-sentinel";
const PEERS = ["@cdktf/provider-aws", "@cdktf/provider-kubernetes", "cdktf", "constructs"];

interface PackResult {
  filename: string;
  integrity: string;
  files: { path: string }[];
}
interface Manifest {
  version: string;
  license: string;
  main: string;
  types: string;
  exports: Record<string, string | { types: string; default: string }>;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  engines: Record<string, string>;
}
interface LockEntry {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [key: string]: unknown;
}

// A cdktf app as `cdktf init --template=typescript` makes one: deep provider imports, both constructs with
// custom props, the package's root entry and two of its subpaths.
const CONSUMER_MAIN = `
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { App, TerraformOutput, TerraformStack } from "cdktf";
import { DEFAULT_SENTINEL_PORT, Ec2RedisSentinel, type Ec2RedisSentinelProps } from "${NAME}";
import { KubernetesRedisSentinel } from "${NAME}/constructs/kubernetes";
import { parseSpec } from "${NAME}/spec";

const spec = {
  topology: { nodeCount: 5, masterName: "orders-redis" },
  sentinel: { downAfterMilliseconds: 3000 },
  acl: { users: [{ name: "orders", rules: "~orders:* +@read +@write" }, { name: "reports", rules: "~* +@read" }] },
};
const app = new App({ outdir: "cdktf.out" });

const aws = new TerraformStack(app, "aws");
new AwsProvider(aws, "aws", { region: "eu-west-1" });
const zones = ["a", "b", "c", "a", "b"];
const props: Ec2RedisSentinelProps = {
  region: "eu-west-1",
  vpcId: "vpc-0123456789abcdef0",
  nodes: zones.map((zone, i) => ({ subnetId: \`subnet-\${i}\`, availabilityZone: \`eu-west-1\${zone}\`, subnetCidr: \`10.30.\${i + 1}.0/24\` })),
  clientCidrs: ["10.30.100.0/24"],
  instanceType: "r6i.large",
  parameterPath: "/orders/redis",
  spec,
};
const vms = new Ec2RedisSentinel(aws, "orders", props);
vms.allowFrom({ securityGroupId: "sg-0123456789abcdef0" });
new TerraformOutput(aws, "sentinel_endpoints", { value: vms.sentinelEndpoints });

const k8s = new TerraformStack(app, "k8s");
new KubernetesProvider(k8s, "kubernetes", { configPath: "~/.kube/config" });
const pods = new KubernetesRedisSentinel(k8s, "orders", {
  namespace: "orders",
  name: "orders-redis",
  sentinels: "separate",
  passwordSecret: "orders-redis-passwords",
  generatePasswords: true,
  storageSize: "20Gi",
  spec: { ...spec, redis: { memory: { maxmemory: "512mb" } } },
});
pods.allowFrom({ podSelector: { "app.kubernetes.io/name": "orders" } });
new TerraformOutput(k8s, "sentinel_service", { value: pods.sentinelEndpoints[0] });

if (parseSpec({ ...spec, auth: { secrets: { source: "env", prefix: "REDIS_" } } }).sentinel.port !== DEFAULT_SENTINEL_PORT) {
  throw new Error("the spec entry point applies other defaults than the constructs");
}
app.synth();
`;

// cdktf init's tsconfig (without its incremental build and inline source maps): CommonJS with the classic ("node10")
// resolution, which reads typesVersions, not exports.
const CONSUMER_TSCONFIG = {
  compilerOptions: {
    alwaysStrict: true,
    declaration: true,
    experimentalDecorators: true,
    lib: ["es2018"],
    module: "CommonJS",
    noEmitOnError: true,
    noFallthroughCasesInSwitch: true,
    noImplicitAny: true,
    noImplicitReturns: true,
    noImplicitThis: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    resolveJsonModule: true,
    strict: true,
    strictNullChecks: true,
    strictPropertyInitialization: true,
    stripInternal: true,
    target: "ES2018",
    skipLibCheck: true,
  },
  include: ["main.ts"],
};

// What each entry point exports, at run time, and whether loading it loaded cdktf.
/** What each entry point must export, and what it must not (the root leaves local and ops to their subpaths). */
const ENTRY_POINTS: Record<string, { exports: string[]; absent?: string[] }> = {
  [`${NAME}/spec`]: { exports: ["parseSpec", "SpecError", "DEFAULT_SENTINEL_PORT"] },
  [`${NAME}/render`]: { exports: ["renderRedisConf", "renderSentinelConf", "renderCloudConfig"] },
  [`${NAME}/local`]: { exports: ["LocalCluster", "formatStatus"] },
  [`${NAME}/ops`]: { exports: ["verifyCluster", "drill", "rotatePassword"] },
  [NAME]: {
    exports: ["Ec2RedisSentinel", "KubernetesRedisSentinel", "parseSpec", "renderCluster", "DEFAULT_REDIS_PORT"],
    absent: ["LocalCluster", "verifyCluster"],
  },
  [`${NAME}/constructs/ec2`]: { exports: ["Ec2RedisSentinel"] },
  [`${NAME}/constructs/kubernetes`]: { exports: ["KubernetesRedisSentinel"] },
};

// Run in a fresh node for each entry point (argv: the entry, its JSON check): which names it lacks or wrongly
// has, and whether loading it loaded cdktf or ioredis.
const CHECK_ENTRY_POINT = `
const [entry, check] = [process.argv[1], JSON.parse(process.argv[2])];
const exported = require(entry);
const loaded = (dir) => Object.keys(require.cache).some((file) => file.includes("/node_modules/" + dir + "/"));
console.log(JSON.stringify({
  missing: check.exports.filter((name) => exported[name] === undefined),
  present: (check.absent ?? []).filter((name) => exported[name] !== undefined),
  cdktfLoaded: loaded("cdktf"),
  ioredisLoaded: loaded("ioredis"),
}));
`;

const CHECK_DEEP_IMPORT = `
try {
  require.resolve("${NAME}/dist/src/render/redis-conf");
  console.log("allowed");
} catch (e) {
  console.log(e.code);
}
`;

function run(command: string, args: string[], cwd: string): string {
  // CHECKPOINT_DISABLE: no version check from cdktf.
  return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CHECKPOINT_DISABLE: "1" } });
}

/**
 * The consumer's lock file: the tarball, and its runtime dependencies as this repository's lock file holds them, at
 * the same places, so that `npm ci --offline` finds every one in npm's cache.
 */
function consumerLock(manifest: Manifest, tarball: string, integrity: string) {
  const repoLock = JSON.parse(fs.readFileSync(path.join(REPO, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
  const root = `node_modules/${NAME}`;
  const packages: Record<string, unknown> = {
    "": { name: "consumer", version: "0.0.0", dependencies: { [NAME]: tarball } },
    [root]: {
      version: manifest.version,
      resolved: tarball,
      integrity,
      license: manifest.license,
      dependencies: manifest.dependencies,
      peerDependencies: manifest.peerDependencies,
      bin: manifest.bin,
      engines: manifest.engines,
    },
  };
  // Node's resolution, on lock file paths: the nearest node_modules up from the dependent package.
  const resolve = (from: string, name: string): string => {
    for (let dir = from; ; dir = dir.slice(0, dir.lastIndexOf("/node_modules/"))) {
      if (repoLock.packages[`${dir}/node_modules/${name}`]) return `${dir}/node_modules/${name}`;
      if (!dir.includes("/node_modules/")) break;
    }
    if (repoLock.packages[`node_modules/${name}`]) return `node_modules/${name}`;
    throw new Error(`${name} (needed by ${from}) is not in package-lock.json`);
  };
  const queue: [string, Record<string, string> | undefined][] = [[root, manifest.dependencies]];
  for (let next = queue.shift(); next; next = queue.shift()) {
    const [from, dependencies] = next;
    for (const name of Object.keys(dependencies ?? {})) {
      const at = resolve(from, name);
      if (packages[at]) continue;
      // Flags of this repository's tree (dev, peer) mean nothing in the consumer's.
      const { dev: _dev, peer: _peer, devOptional: _devOptional, ...entry } = repoLock.packages[at];
      packages[at] = entry;
      queue.push([at, { ...entry.dependencies, ...entry.optionalDependencies }]);
    }
  }
  return { name: "consumer", version: "0.0.0", lockfileVersion: 3, requires: true, packages };
}

let tmp: string;
let app: string;
let pack: PackResult;
let manifest: Manifest;
const timings: string[] = [];

function timed<T>(what: string, f: () => T): T {
  const start = Date.now();
  const result = f();
  timings.push(`${what} ${Date.now() - start} ms`);
  return result;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "redis-ha-package-"));
  // prepack builds dist/ first.
  [pack] = timed("npm pack", () => JSON.parse(run("npm", ["pack", "--json", "--pack-destination", tmp], REPO)) as PackResult[]);
  const tarball = path.join(tmp, pack.filename);
  manifest = JSON.parse(run("tar", ["-xzOf", tarball, "package/package.json"], tmp)) as Manifest;

  app = path.join(tmp, "app");
  fs.mkdirSync(app);
  const dependency = `file:../${pack.filename}`;
  fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "consumer", version: "0.0.0", private: true, dependencies: { [NAME]: dependency } }, null, 2));
  fs.writeFileSync(path.join(app, "package-lock.json"), JSON.stringify(consumerLock(manifest, dependency, pack.integrity), null, 2));
  fs.writeFileSync(path.join(app, "tsconfig.json"), JSON.stringify(CONSUMER_TSCONFIG, null, 2));
  fs.writeFileSync(path.join(app, "main.ts"), CONSUMER_MAIN);
  // --legacy-peer-deps: the peers are not npm's to fetch here; they are linked next.
  timed("npm ci", () => run("npm", ["ci", "--offline", "--legacy-peer-deps", "--no-audit", "--no-fund"], app));
  for (const peer of PEERS) {
    const link = path.join(app, "node_modules", peer);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(fs.realpathSync(path.join(REPO, "node_modules", peer)), link, "dir");
  }
}, 120_000);

afterAll(() => {
  console.log(`package test: ${timings.join(", ")}`);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test("the tarball holds the compiled public API with its declarations, README and package.json, nothing else", () => {
  const files = pack.files.map((f) => f.path).sort();
  expect(files).toEqual(expect.arrayContaining(["package.json", "README.md", "dist/constructs/index.js", "dist/constructs/index.d.ts", "dist/src/cli/main.js"]));
  for (const file of files) {
    expect(file).toMatch(/^(package\.json|README\.md|dist\/(src|constructs)\/.+\.(js|d\.ts))$/);
  }
  for (const js of files.filter((f) => f.endsWith(".js"))) expect(files).toContain(js.replace(/\.js$/, ".d.ts"));
  // The built bin is executable in the clone too (npx redis-ha after npm run build).
  fs.accessSync(path.join(REPO, "dist", "src", "cli", "main.js"), fs.constants.X_OK);
  // Every entry point and the bin are in it.
  const targets = Object.values(manifest.exports).flatMap((t) => (typeof t === "string" ? [t] : [t.types, t.default]));
  for (const target of [...targets, manifest.main, manifest.types, ...Object.values(manifest.bin)]) {
    expect(files).toContain(path.posix.normalize(target));
  }
});

test("cdktf, constructs and both providers are peer dependencies, not dependencies", () => {
  expect(Object.keys(manifest.peerDependencies).sort()).toEqual(PEERS);
  for (const peer of PEERS) expect(manifest.dependencies[peer]).toBeUndefined();
  expect(manifest.peerDependencies.cdktf).toBe("^0.21.0");
});

test("the consumer app type-checks against the shipped declarations, by typesVersions (node10) and by exports (node16)", () => {
  const tsc = path.join(REPO, "node_modules", "typescript", "bin", "tsc");
  timed("tsc (node10, emit)", () => run(process.execPath, [tsc, "-p", "."], app));
  timed("tsc (node16)", () => run(process.execPath, [tsc, "-p", ".", "--noEmit", "--module", "node16", "--moduleResolution", "node16"], app));
  expect(fs.existsSync(path.join(app, "main.js"))).toBe(true);
});

test("each entry point exports its part of the API; spec and render load neither cdktf nor ioredis, the constructs no ioredis; deep imports are refused", () => {
  const result = Object.fromEntries(
    Object.entries(ENTRY_POINTS).map(([entry, check]) => [entry, JSON.parse(run(process.execPath, ["-e", CHECK_ENTRY_POINT, entry, JSON.stringify(check)], app))]),
  );
  const expected = (cdktfLoaded: boolean, ioredisLoaded: boolean) => ({ missing: [], present: [], cdktfLoaded, ioredisLoaded });
  for (const entry of [`${NAME}/spec`, `${NAME}/render`]) expect(result[entry]).toEqual(expected(false, false));
  for (const entry of [`${NAME}/local`, `${NAME}/ops`]) expect(result[entry]).toEqual(expected(false, true));
  for (const entry of [NAME, `${NAME}/constructs/ec2`, `${NAME}/constructs/kubernetes`]) expect(result[entry]).toEqual(expected(true, false));
  expect(run(process.execPath, ["-e", CHECK_DEEP_IMPORT], app).trim()).toBe("ERR_PACKAGE_PATH_NOT_EXPORTED");
});

describe("the consumer app synthesizes", () => {
  let aws: { resource: Record<string, Record<string, Record<string, unknown>>> };
  let k8s: { resource: Record<string, Record<string, Record<string, unknown>>> };
  const all = (stack: typeof aws, type: string) => Object.values(stack.resource[type] ?? {});

  beforeAll(() => {
    // main.js is compiled by the type-check test; compile it here too when that test is filtered out.
    if (!fs.existsSync(path.join(app, "main.js"))) run(process.execPath, [path.join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", "."], app);
    timed("synth", () => run(process.execPath, ["main.js"], app));
    const read = (stack: string) => JSON.parse(fs.readFileSync(path.join(app, "cdktf.out", "stacks", stack, "cdk.tf.json"), "utf8"));
    aws = read("aws");
    k8s = read("k8s");
  }, 60_000);

  test("EC2: five nodes, a password parameter per user, user data carrying the custom master name and ACL users", () => {
    expect(all(aws, "aws_instance")).toHaveLength(5);
    expect(all(aws, "aws_network_interface").map((n) => n.private_ips)).toEqual([1, 2, 3, 4, 5].map((i) => [`10.30.${i}.10`]));
    expect(all(aws, "aws_ssm_parameter").map((p) => p.name).sort()).toEqual(
      ["admin", "orders", "replication", "reports", "sentinel"].map((key) => `/orders/redis/${key}-password`),
    );
    expect(all(aws, "aws_vpc_security_group_ingress_rule")).toEqual(
      expect.arrayContaining([expect.objectContaining({ referenced_security_group_id: "sg-0123456789abcdef0", from_port: 26379 })]),
    );
    for (const instance of all(aws, "aws_instance")) {
      const userData = textOfBase64GzipExpression(instance.user_data_base64 as string);
      expect(userData).toMatch(/^#cloud-config\n/);
      expect(userData).toContain("sentinel monitor orders-redis ");
      expect(userData).toContain("sentinel down-after-milliseconds orders-redis 3000");
      expect(userData).toContain("~orders:* +@read +@write");
      expect(userData).toContain("~* +@read");
    }
  });

  test("Kubernetes: separate sentinels, five pods each, a ConfigMap with every node's files for the custom spec", () => {
    const sets = all(k8s, "kubernetes_stateful_set_v1") as { metadata: { name: string }; spec: { replicas: string | number } }[];
    expect(sets.map((s) => [s.metadata.name, Number(s.spec.replicas)]).sort()).toEqual([["orders-redis", 5], ["orders-redis-sentinel", 5]]);
    const [configMap] = all(k8s, "kubernetes_config_map_v1") as { data: Record<string, string> }[];
    for (let i = 0; i < 5; i++) {
      expect(Object.keys(configMap.data)).toEqual(expect.arrayContaining([`redis-${i}.conf`, `sentinel-${i}.conf`, `boot-${i}.sh`]));
      expect(configMap.data[`sentinel-${i}.conf`]).toContain(`orders-redis-sentinel-${i}.orders-redis-sentinel-headless.orders.svc.cluster.local`);
      expect(configMap.data[`sentinel-${i}.conf`]).toMatch(/^sentinel monitor orders-redis orders-redis-0\.orders-redis-headless\.orders\.svc\.cluster\.local 6379 3$/m);
      expect(configMap.data[`redis-${i}.conf`]).toMatch(/^maxmemory 512mb$/m);
    }
    expect(configMap.data["boot-0.sh"]).toContain("~orders:* +@read +@write");
    expect(all(k8s, "kubernetes_secret_v1")).toHaveLength(1);
  });

  test("the redis-ha bin is installed, executable, and prints its usage", () => {
    const bin = path.join(app, "node_modules", ".bin", "redis-ha");
    fs.accessSync(bin, fs.constants.X_OK);
    expect(fs.readFileSync(bin, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
    expect(run(bin, ["--help"], app)).toMatch(/^Usage:\n {2}redis-ha local up/);
  });
});
