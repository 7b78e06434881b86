import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { App } from "cdktf";
import { clusterFromUserData, inspectCluster, userDataOfStack, withClient, type ClientAuth, type ClusterStatus } from "../../src/local";
import { passwordKey, SYSTEM_USERS } from "../../src/spec";
import { buildApp } from "../../stacks/app";
import type { Environment } from "../../stacks/environments";
import { AptProxy } from "./apt-proxy";
import { AwsStandIns } from "./aws-stand-ins";
import { serverCertificate, testCa, testImage, VM_CACHE, type TestImage } from "./image";
import { emptyVolume, rootDisk, seedDisk, TestVm, type GuestResult } from "./qemu";
import { VmNetwork } from "./vm-network";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The test environment: the example dev stack's cluster in three subnets of the RFC 2544 test range. */
export const VM_REGION = "eu-west-1";
export const VM_SUBNETS = ["198.18.1.0/24", "198.18.2.0/24", "198.18.3.0/24"] as const;
const VM_ENVIRONMENT: Environment = {
  name: "vmtest",
  region: VM_REGION,
  backend: { type: "local" },
  cluster: {
    vpcId: "vpc-0123456789abcdef0",
    nodes: VM_SUBNETS.map((subnetCidr, i) => ({
      subnetId: `subnet-vmtest${i}`,
      availabilityZone: `${VM_REGION}${"abc"[i]}`,
      subnetCidr,
    })),
    clientCidrs: [VM_SUBNETS[0]],
    instanceType: "t3.micro",
    dataVolumeGiB: 2,
  },
};
const STACK = `redis-sentinel-${VM_ENVIRONMENT.name}`;
/** The instance role name IMDS hands credentials for (the construct's role has a generated name). */
const ROLE_NAME = "redis-sentinel-vmtest-role";

interface Node {
  readonly index: number;
  readonly address: string;
  readonly availabilityZone: string;
  readonly userData: string;
  /** Incremented by `replace`: a new instance, with a new root disk. */
  generation: number;
  vm?: TestVm;
}

/**
 * The test environment's synthesized stack, deployed on three QEMU VMs as EC2 would run it: each VM gets its
 * instance's user data unchanged through NoCloud, its address through its network config, the data volume as a
 * second (NVMe) disk, and IMDS, SSM and Debian's archive through the test's stand-ins.
 */
export class Ec2Cluster {
  static async create(dir: string, log: (line: string) => void): Promise<Ec2Cluster> {
    fs.mkdirSync(dir, { recursive: true });
    const outdir = path.join(dir, "cdktf.out");
    buildApp([VM_ENVIRONMENT], new App({ outdir }), []).synth();
    const userData = userDataOfStack(outdir, STACK);
    const stack = JSON.parse(fs.readFileSync(path.join(outdir, "stacks", STACK, "cdk.tf.json"), "utf8"));
    const parameterNames = Object.values(stack.resource.aws_ssm_parameter as Record<string, { name: string }>).map((p) => p.name);
    const parameters = new Map(parameterNames.map((name) => [name, randomBytes(24).toString("hex")]));
    const layout = clusterFromUserData(userData);
    const ca = testCa();
    const image = testImage(ca, VM_REGION);
    log(`image: ${image.built ? `built in ${(image.buildMs / 1000).toFixed(0)} s` : "from the cache"}`);
    const cluster = new Ec2Cluster(dir, image, layout.masterName, layout.redisPort, layout.sentinelPort, parameters, log);
    cluster.nodes.push(
      ...layout.nodes.map((n, index) => ({
        index,
        address: n.deployedAddress,
        availabilityZone: `${VM_REGION}${"abc"[index]}`,
        userData: userData[index],
        generation: 0,
      })),
    );
    try {
      cluster.standIns = new AwsStandIns({
        region: VM_REGION,
        roleName: ROLE_NAME,
        parameters,
        tls: serverCertificate(ca, [`ssm.${VM_REGION}.amazonaws.com`, `s3.${VM_REGION}.amazonaws.com`]),
      });
      cluster.aptProxy = await AptProxy.start(path.join(VM_CACHE, "apt-cacher-ng"));
      cluster.network = VmNetwork.create(VM_SUBNETS);
      for (const node of cluster.nodes) emptyVolume(cluster.dataDisk(node));
    } catch (e) {
      await cluster.destroy();
      throw e;
    }
    return cluster;
  }

  readonly nodes: Node[] = [];
  private standIns?: AwsStandIns;
  private aptProxy?: AptProxy;
  private network?: VmNetwork;
  private readonly endpoints = new Map<string, { imdsPort: number; ssmPort: number }>();

  private constructor(
    readonly dir: string,
    private readonly image: TestImage,
    readonly masterName: string,
    readonly redisPort: number,
    readonly sentinelPort: number,
    private readonly parameters: ReadonlyMap<string, string>,
    private readonly log: (line: string) => void,
  ) {}

  /** The password of key `key` (such as `admin-password`), as the test's SSM endpoint holds it. */
  private secret(key: string): string {
    const found = [...this.parameters].find(([name]) => name.endsWith(`/${key}`));
    if (!found) throw new Error(`no SSM parameter for ${key}`);
    return found[1];
  }

  /** How the test logs in (ACL mode, the construct's default): as `admin` to Redis, as `sentinel` to Sentinel. */
  get credentials(): { readonly redis: ClientAuth; readonly sentinel: ClientAuth } {
    return {
      redis: { username: SYSTEM_USERS.admin, password: this.secret(passwordKey(SYSTEM_USERS.admin)) },
      sentinel: { username: SYSTEM_USERS.sentinel, password: this.secret(passwordKey(SYSTEM_USERS.sentinel)) },
    };
  }

  /** What the stand-ins served, for the log. */
  get requests() {
    return this.standIns?.requests ?? [];
  }

  dataDisk(node: Node): string {
    return path.join(this.dir, `node-${node.index}-data.raw`);
  }

  private instanceId(node: Node): string {
    return `i-0vmtest${node.index}${node.generation.toString().padStart(8, "0")}`;
  }

  /** Powers node `index` on: its current root disk (a new one for a new generation) and its data volume. */
  async start(index: number): Promise<void> {
    const node = this.nodes[index];
    const name = `node-${index}-gen-${node.generation}`;
    const rootFile = path.join(this.dir, `${name}-root.qcow2`);
    if (!fs.existsSync(rootFile)) rootDisk(this.image.root, rootFile);
    const instanceId = this.instanceId(node);
    const key = `${index}/${node.generation}`;
    if (!this.endpoints.has(key)) this.endpoints.set(key, await this.standIns!.listen(index, { instanceId, availabilityZone: node.availabilityZone }));
    const endpoints = this.endpoints.get(key)!;
    const privateMac = `52:54:00:12:${(index + 1).toString(16).padStart(2, "0")}:0${node.generation % 10}`;
    const metaMac = `52:54:00:a9:${(index + 1).toString(16).padStart(2, "0")}:0${node.generation % 10}`;
    const subnet = VM_SUBNETS[index];
    const seed = seedDisk(path.join(this.dir, `${name}-seed.iso`), {
      userData: node.userData,
      instanceId,
      hostname: `redis-node-${index}`,
      privateMac,
      metaMac,
      address: node.address,
      prefixLength: Number(subnet.split("/")[1]),
      gateway: this.network!.router(subnet),
    });
    const vm = new TestVm({
      name,
      dir: this.dir,
      kernel: this.image.kernel,
      initrd: this.image.initrd,
      rootDisk: rootFile,
      dataDisk: this.dataDisk(node),
      seed,
      privateMac,
      metaMac,
      forwards: { imds: endpoints.imdsPort, ssm: endpoints.ssmPort, aptProxy: this.aptProxy!.port },
      attachTap: (tap) => this.network!.attach(tap),
    });
    node.vm = vm;
    await vm.start();
    this.log(`node ${index}: powered on (${name}, QEMU PID ${vm.pid})`);
  }

  /** Pulls node `index`'s plug (SIGKILL to its QEMU). */
  async kill(index: number): Promise<void> {
    await this.nodes[index].vm?.kill();
  }

  /** Node `index` replaced: a new instance (new root disk, new instance id) on the same data volume and address. */
  replace(index: number): void {
    this.nodes[index].generation++;
  }

  /** Node `index`'s data volume replaced by an empty one. Only while the node is off. */
  replaceDataVolume(index: number): void {
    if (this.nodes[index].vm?.pid) throw new Error(`node ${index} is running`);
    emptyVolume(this.dataDisk(this.nodes[index]));
  }

  vm(index: number): TestVm {
    const vm = this.nodes[index].vm;
    if (!vm) throw new Error(`node ${index} was never started`);
    return vm;
  }

  /** Runs `argv` in node `index`'s guest. */
  exec(index: number, argv: readonly string[], timeoutMs?: number): Promise<GuestResult> {
    return this.vm(index).exec(argv, timeoutMs);
  }

  /**
   * Waits until cloud-init on node `index` has finished (`cloud-init status` no longer running); resolves with its
   * `status --long` output and result.json.
   */
  async cloudInitResult(index: number, timeoutMs: number): Promise<{ status: string; exitCode: number; result: { v1?: { errors?: string[] } } }> {
    const until = Date.now() + timeoutMs;
    await this.vm(index).waitForAgent(timeoutMs);
    for (;;) {
      const status = await this.exec(index, ["/usr/bin/cloud-init", "status", "--long"]).catch((e: Error) => ({ exitCode: -1, stdout: e.message, stderr: "" }));
      if (status.exitCode !== -1 && !/status: (running|not run)/.test(status.stdout)) {
        const result = await this.exec(index, ["/bin/cat", "/var/lib/cloud/data/result.json"]);
        return { status: status.stdout, exitCode: status.exitCode, result: JSON.parse(result.stdout || "{}") };
      }
      if (Date.now() > until) throw new Error(`cloud-init on node ${index} still runs after ${timeoutMs} ms: ${status.stdout}`);
      await sleep(5000);
    }
  }

  /** Every node's view, from the test process over the VM network. */
  status(): Promise<ClusterStatus> {
    const endpoints = this.nodes.map((n) => ({ address: n.address, redisPort: this.redisPort, sentinelPort: this.sentinelPort }));
    return inspectCluster(endpoints, this.masterName, this.credentials);
  }

  /** Resolves with the first healthy status within `timeoutMs`; rejects with the last problems otherwise. */
  async waitHealthy(timeoutMs: number): Promise<ClusterStatus> {
    let last: ClusterStatus | undefined;
    for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(2000)) {
      last = await this.status();
      if (last.healthy) return last;
    }
    throw new Error(`not healthy within ${timeoutMs} ms: ${last?.problems.join("; ")}`);
  }

  /** One client session with the Redis at `address`, as `admin`. */
  redis<T>(address: string, fn: Parameters<typeof withClient<T>>[3], timeoutMs = 5000): Promise<T> {
    return withClient(address, this.redisPort, this.credentials.redis, fn, timeoutMs);
  }

  /** The master node `witness`'s sentinel names. */
  async masterBy(witness: number): Promise<string | undefined> {
    return withClient(this.nodes[witness].address, this.sentinelPort, this.credentials.sentinel, async (c) =>
      ((await c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", this.masterName)) as string[])[0],
    ).catch(() => undefined);
  }

  indexOf(address: string): number {
    const index = this.nodes.findIndex((n) => n.address === address);
    if (index < 0) throw new Error(`${address} is no node's address`);
    return index;
  }

  /** Stops every QEMU by its PID, the servers and apt-cacher-ng, and deletes the network namespace. */
  async destroy(): Promise<void> {
    for (const node of this.nodes) await node.vm?.kill();
    this.aptProxy?.stop();
    await this.standIns?.close();
    this.network?.destroy();
  }
}
