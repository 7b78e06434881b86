import * as ipaddr from "ipaddr.js";
import { z } from "zod";
import { AWS_REGION_PATTERN } from "./aws";
import { prefixProblem, SpecError, toProblems } from "./parse";

/** Default instance type: 2 vCPU, 2 GiB. */
export const DEFAULT_INSTANCE_TYPE = "t3.small";
/** Default size of each node's encrypted root volume. */
export const DEFAULT_ROOT_VOLUME_GIB = 8;
/** Default size of each node's encrypted data volume (Redis's `dir`). */
export const DEFAULT_DATA_VOLUME_GIB = 10;
/** The largest gp3 volume. */
export const MAX_VOLUME_GIB = 16384;
/** Host number, within its subnet, of the first node address derived from a subnet CIDR. */
export const FIRST_DERIVED_HOST = 10;
/** The ARN of a KMS key (not of an alias). */
const KMS_KEY_ARN = new RegExp(String.raw`^arn:aws[a-z-]*:kms:${AWS_REGION_PATTERN}:\d{12}:key\/[A-Za-z0-9-]+$`);

/**
 * Checks a CIDR the way aws-cdk's `Peer.ipv4` does, and refuses the whole internet. Returns an error message, or
 * undefined when the CIDR is fine.
 */
export function cidrProblem(cidr: string): string | undefined {
  if (!cidr.includes("/")) {
    return ipaddr.isValid(cidr)
      ? `the CIDR mask is missing. Did you mean "${cidr}/${ipaddr.parse(cidr).kind() === "ipv4" ? 32 : 128}"?`
      : 'must be a CIDR such as "10.0.0.0/16"';
  }
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(cidr);
  } catch {
    return 'must be a CIDR such as "10.0.0.0/16"';
  }
  const [address, prefix] = parsed;
  if (prefix === 0) {
    return "opens Redis and Sentinel to every address on the internet. Name the CIDRs of the clients, such as the application subnets";
  }
  const network = address.kind() === "ipv4"
    ? ipaddr.IPv4.networkAddressFromCIDR(cidr).toString()
    : ipaddr.IPv6.networkAddressFromCIDR(cidr).toString();
  if (network !== address.toString()) return `has host bits set. Did you mean "${network}/${prefix}"?`;
  return undefined;
}

/**
 * `cidrProblem` for a peer of EC2 nodes: the nodes have IPv4 addresses only, so an IPv6 CIDR could never reach them.
 */
export function ipv4CidrProblem(cidr: string): string | undefined {
  const problem = cidrProblem(cidr);
  if (problem || ipaddr.IPv4.isValidCIDR(cidr)) return problem;
  return 'is an IPv6 CIDR, and the nodes have IPv4 addresses only: Redis and Sentinel listen on those. Give the clients\' IPv4 CIDR, such as "10.20.100.0/24"';
}

/** IPv4 ranges no address of the internet is in (RFC 6890): private, shared (carrier-grade NAT), benchmarking, documentation. */
const NON_GLOBAL_IPV4 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "198.18.0.0/15", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"].map(
  (cidr) => ipaddr.IPv4.parseCIDR(cidr),
);
/** The widest peer CIDR accepted, even with `allowPublicPeers`. */
export const WIDEST_PEER_PREFIX = 8;

/**
 * A peer CIDR (clients, monitoring, `allowFrom`) that admits too much: one wider than /8, or, unless
 * `allowPublicPeers`, one holding any address of the internet (so that `0.0.0.0/1` and `128.0.0.0/1` do not stand in
 * for the refused `0.0.0.0/0`). Returns an error message, or undefined when the CIDR is fine (or not an IPv4 CIDR:
 * `ipv4CidrProblem` reports those).
 */
export function widePeerProblem(cidr: string, allowPublicPeers: boolean): string | undefined {
  if (!ipaddr.IPv4.isValidCIDR(cidr)) return undefined;
  const [address, prefix] = ipaddr.IPv4.parseCIDR(cidr);
  if (prefix === 0) return undefined; // the whole internet: cidrProblem's message
  if (prefix < WIDEST_PEER_PREFIX) {
    return `is wider than /${WIDEST_PEER_PREFIX} (${2 ** (32 - prefix)} addresses): name the clients' subnets, such as "10.20.100.0/24"`;
  }
  if (allowPublicPeers || NON_GLOBAL_IPV4.some(([net, bits]) => prefix >= bits && address.match(net, bits))) return undefined;
  return "holds addresses of the internet: peers must lie in private ranges (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10). Name the clients' private subnets, or set allowPublicPeers: true to admit public addresses";
}

/**
 * Instance families on the Xen hypervisor (previous generations): they name an EBS volume attached as /dev/sdf
 * /dev/xvdf, where the boot script does not look for it. `i3` is Xen except `i3.metal`.
 */
const XEN_FAMILIES = new Set([
  "c1", "c3", "c4", "cc2", "cr1", "d2", "f1", "g2", "g3", "g3s", "h1", "hs1", "i2", "i3", "m1", "m2", "m3", "m4",
  "p2", "p3", "r3", "r4", "t1", "t2", "x1", "x1e",
]);

/** Whether an instance type runs on Xen rather than on Nitro (or bare metal). */
export function isXenInstanceType(instanceType: string): boolean {
  const [family, size] = instanceType.split(".");
  return XEN_FAMILIES.has(family) && !(family === "i3" && size === "metal");
}

/**
 * The CPU architecture of an instance type, from its family: Graviton families (`a1`, or a `g` right after the
 * generation, such as t4g, m7g, c6gn, r8gd, im4gn) are arm64, the others x86_64.
 */
export function instanceArchitecture(instanceType: string): "arm64" | "x86_64" {
  const family = instanceType.split(".")[0];
  return family === "a1" || /^[a-z]+\d+g/.test(family) ? "arm64" : "x86_64";
}

/** GiB of the burstable types by size (t3, t3a, t4g). */
const BURSTABLE_GIB: Record<string, number> = { nano: 0.5, micro: 1, small: 2, medium: 4, large: 8, xlarge: 16, "2xlarge": 32 };
/** GiB per vCPU of the general purpose (m), compute (c) and memory (r) families from the 5th generation on. */
const GIB_PER_VCPU: Record<string, number> = { c: 2, m: 4, r: 8 };

/**
 * Memory of an instance type, for the common families: t3, t3a and t4g, and the c, m and r families from the 5th
 * generation on (such as m6i, c7g, r6gd; not c5n, whose sizes have more). Undefined for any other type.
 */
export function instanceMemoryBytes(instanceType: string): number | undefined {
  const [family, size] = instanceType.split(".");
  let gib: number | undefined;
  if (/^t(3a?|4g)$/.test(family)) {
    gib = BURSTABLE_GIB[size];
  } else {
    const match = /^([cmr])([5-8])(a|g|i|d|ad|gd|id|n|dn|b)?$/.exec(family);
    const vcpus = size === "medium" ? 1 : size === "large" ? 2 : size === "xlarge" ? 4 : /^(\d+)xlarge$/.test(size ?? "") ? 4 * Number(size.slice(0, -6)) : undefined;
    if (match && !(match[1] === "c" && match[3]?.includes("n")) && vcpus !== undefined) gib = GIB_PER_VCPU[match[1]] * vcpus;
  }
  return gib === undefined ? undefined : gib * 2 ** 30;
}

/** The hosts of an IPv4 subnet that AWS does not reserve (the first four and the last). */
function usableHost(subnetCidr: string, ip: string): boolean {
  const prefix = ipaddr.IPv4.parseCIDR(subnetCidr)[1];
  const size = 2 ** (32 - prefix);
  const offset = ipToNumber(ip) - ipToNumber(ipaddr.IPv4.networkAddressFromCIDR(subnetCidr).toString());
  return offset >= 4 && offset <= size - 2;
}

const ipToNumber = (ip: string) => ipaddr.IPv4.parse(ip).toByteArray().reduce((n, byte) => n * 256 + byte, 0);
const numberToIp = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");

/** What the EC2 construct needs besides the cluster spec: where each node runs, and who may connect. */
export function ec2PlacementSchema(nodeCount: number, isUnresolved: (value: string) => boolean = () => false) {
  const literalOr = (check: (v: string) => string | undefined) =>
    z.string().superRefine((v, ctx) => {
      const problem = isUnresolved(v) ? undefined : check(v);
      if (problem) ctx.addIssue({ code: "custom", message: problem, input: v });
    });
  const node = z.strictObject({
    /** Subnet of the node's network interface. */
    subnetId: literalOr((v) => (/^subnet-[0-9a-z]+$/.test(v) ? undefined : "must be a subnet id, such as subnet-0abc1234")),
    /** Availability zone of that subnet: the data volume must be created there. */
    availabilityZone: z.string().min(1, "must name an availability zone, such as eu-west-1a"),
    /** IPv4 CIDR of the subnet, from which the node's address is derived when `privateIp` is not given. */
    subnetCidr: literalOr((v) => {
      if (!ipaddr.IPv4.isValidCIDR(v)) return 'must be the subnet\'s IPv4 CIDR, such as "10.0.1.0/24"';
      const network = `${ipaddr.IPv4.networkAddressFromCIDR(v).toString()}/${ipaddr.IPv4.parseCIDR(v)[1]}`;
      return network === v ? undefined : `has host bits set. Did you mean "${network}"? A node's own address goes in privateIp`;
    }).optional(),
    /**
     * Fixed private address of the node; a replaced instance keeps it.
     * @default host FIRST_DERIVED_HOST (10) of subnetCidr, then 11, ... for the next nodes in that subnet
     */
    privateIp: z
      .string()
      .refine((v) => !isUnresolved(v), "must be a literal address: every node's configs are rendered at synth time")
      .refine((v) => isUnresolved(v) || ipaddr.IPv4.isValidFourPartDecimal(v), "must be an IPv4 address such as 10.0.1.10")
      .optional(),
  });

  return z
    .strictObject({
      /** VPC of the nodes. */
      vpcId: z.string().min(1, "must name a VPC, such as vpc-0abc1234"),
      /** One entry per node, in node order. */
      nodes: z.array(node),
      /** IPv4 CIDRs of the clients (Spoke's subnets) that may reach Redis and Sentinel. @default [] */
      clientCidrs: z.array(literalOr(ipv4CidrProblem)).default([]),
      /**
       * Admit peer CIDRs (clients, monitoring, `allowFrom`) holding public addresses; none may be wider than /8.
       * @default false: peers must lie in private ranges
       */
      allowPublicPeers: z.boolean().default(false),
      /** Security groups of the clients that may reach Redis and Sentinel. @default [] */
      clientSecurityGroupIds: z
        .array(literalOr((v) => (/^sg-[0-9a-f]{8,17}$/.test(v) ? undefined : "must be a security group id such as sg-0abc1234")))
        .default([]),
      /** Refuse placements where one availability zone holds a majority of the nodes. @default true */
      spreadAcrossAvailabilityZones: z.boolean().default(true),
      /**
       * A Nitro instance type; Graviton types (such as t4g.small) get the arm64 image. Changing it on a deployed
       * cluster changes no instance: a node takes the new type when it is replaced (see the README).
       * @default DEFAULT_INSTANCE_TYPE ("t3.small")
       */
      instanceType: z
        .string()
        .regex(/^[a-z0-9-]+\.[a-z0-9]+$/, "must be an instance type such as t3.small")
        .refine(
          (v) => !isXenInstanceType(v),
          "is a Xen instance type (a previous generation): the data volume would not appear as /dev/sdf. Use a Nitro type, such as t3.small, m6i.large or t4g.small",
        )
        .default(DEFAULT_INSTANCE_TYPE),
      /** @default DEFAULT_ROOT_VOLUME_GIB (8) */
      rootVolumeGiB: z
        .number()
        .int()
        .min(8, "must be at least 8 GiB")
        .max(MAX_VOLUME_GIB, `must be at most ${MAX_VOLUME_GIB} GiB (16 TiB), the largest gp3 volume`)
        .default(DEFAULT_ROOT_VOLUME_GIB),
      /** @default DEFAULT_DATA_VOLUME_GIB (10) */
      dataVolumeGiB: z
        .number()
        .int()
        .min(1, "must be at least 1 GiB")
        .max(MAX_VOLUME_GIB, `must be at most ${MAX_VOLUME_GIB} GiB (16 TiB), the largest gp3 volume`)
        .default(DEFAULT_DATA_VOLUME_GIB),
      /** Image of the nodes. @default the latest Debian 12 image, looked up when Terraform plans */
      amiId: literalOr((v) => (/^ami-[0-9a-f]{8,17}$/.test(v) ? undefined : "must be an image id, such as ami-0123456789abcdef0")).optional(),
      /**
       * KMS key for the volumes and the password parameters. Changing it on a deployed cluster re-encrypts the
       * parameters at once and reaches a node's volumes when they are replaced (see the README).
       * @default the AWS managed keys (aws/ebs, aws/ssm)
       */
      kmsKeyArn: literalOr((v) =>
        KMS_KEY_ARN.test(v)
          ? undefined
          : "must be the ARN of a KMS key, such as arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (not an alias or a key id)",
      ).optional(),
    })
    .superRefine(
      (placement, ctx) => {
        const nodes = Array.isArray(placement.nodes) ? placement.nodes : [];
        if (Array.isArray(placement.clientCidrs)) {
          placement.clientCidrs.forEach((cidr, i) => {
            const problem = typeof cidr === "string" && !isUnresolved(cidr) ? widePeerProblem(cidr, placement.allowPublicPeers === true) : undefined;
            if (problem) ctx.addIssue({ code: "custom", path: ["clientCidrs", i], input: cidr, message: problem });
          });
        }
        if (Number.isInteger(nodeCount) && nodes.length !== nodeCount) {
          ctx.addIssue({
            code: "custom",
            path: ["nodes"],
            input: `${nodes.length} nodes`,
            message: `must hold one entry per node: ${nodeCount} (spec.topology.nodeCount)`,
          });
        }
        // Nodes sharing a subnet must describe it alike: AWS knows one zone and one CIDR per subnet.
        nodes.forEach((n, i) => {
          const first = nodes.findIndex((o) => o.subnetId === n.subnetId);
          if (first === i || typeof n.subnetId !== "string" || isUnresolved(n.subnetId)) return;
          for (const field of ["availabilityZone", "subnetCidr"] as const) {
            const [mine, theirs] = [n[field], nodes[first][field]];
            if (mine !== undefined && theirs !== undefined && mine !== theirs) {
              ctx.addIssue({
                code: "custom",
                path: ["nodes", i, field],
                input: mine,
                message: `differs from nodes[${first}].${field} (${theirs}), in the same subnet ${n.subnetId}: a subnet has one ${field === "subnetCidr" ? "CIDR" : "zone"}`,
              });
            }
          }
        });
        nodes.forEach((n, i) => {
          if (n.privateIp === undefined && (n.subnetCidr === undefined || isUnresolved(n.subnetCidr))) {
            ctx.addIssue({
              code: "custom",
              path: ["nodes", i, "privateIp"],
              input: undefined,
              message: "is needed when subnetCidr is not given as a literal: node addresses are rendered at synth time",
            });
          }
          const cidrOk = n.subnetCidr !== undefined && !isUnresolved(n.subnetCidr) && ipaddr.IPv4.isValidCIDR(n.subnetCidr);
          if (n.privateIp && cidrOk && ipaddr.IPv4.isValidFourPartDecimal(n.privateIp)) {
            const [net, prefix] = ipaddr.IPv4.parseCIDR(n.subnetCidr!);
            if (!ipaddr.IPv4.parse(n.privateIp).match(net, prefix)) {
              ctx.addIssue({
                code: "custom",
                path: ["nodes", i, "privateIp"],
                input: n.privateIp,
                message: `is outside its subnet ${n.subnetCidr}`,
              });
            } else if (!usableHost(n.subnetCidr!, n.privateIp)) {
              ctx.addIssue({
                code: "custom",
                path: ["nodes", i, "privateIp"],
                input: n.privateIp,
                message: `is reserved by AWS in ${n.subnetCidr} (the first four addresses and the last)`,
              });
            }
          }
        });
        if (placement.spreadAcrossAvailabilityZones !== false && Number.isInteger(nodeCount)) {
          const zones = nodes.map((n) => n.availabilityZone).filter((az) => typeof az === "string" && !isUnresolved(az));
          const majority = Math.floor(nodeCount / 2) + 1;
          for (const zone of new Set(zones)) {
            const members = nodes.flatMap((n, i) => (n.availabilityZone === zone ? [i] : []));
            if (members.length >= majority && nodes.length === nodeCount) {
              ctx.addIssue({
                code: "custom",
                path: ["nodes", members[members.length - 1], "availabilityZone"],
                input: zone,
                message: `nodes ${members.join(", ")} share ${zone}, a majority of ${nodeCount}: losing that zone loses the quorum. Spread the nodes over more zones, or set spreadAcrossAvailabilityZones: false`,
              });
            }
          }
        }
      },
      { when: () => true },
    );
}

export type Ec2PlacementInput = z.input<ReturnType<typeof ec2PlacementSchema>>;

/** A validated placement: every node has its fixed private address. */
export type Ec2Placement = Omit<z.output<ReturnType<typeof ec2PlacementSchema>>, "nodes"> & {
  readonly nodes: ReadonlyArray<{
    readonly subnetId: string;
    readonly availabilityZone: string;
    readonly subnetCidr?: string;
    readonly privateIp: string;
  }>;
};

/**
 * Validates a placement for `nodeCount` nodes and gives every node its address: the given `privateIp`, or host 10
 * of its subnet (11 for the second node in the same subnet, and so on). Throws one `SpecError` for every problem,
 * addresses that clash included; `pathPrefix` names where the placement sits in the caller's props.
 */
export function parseEc2Placement(
  input: unknown,
  nodeCount: number,
  isUnresolved: (value: string) => boolean = () => false,
  pathPrefix = "",
): Ec2Placement {
  const result = ec2PlacementSchema(nodeCount, isUnresolved).safeParse(input, { reportInput: true });
  if (!result.success) throw new SpecError(toProblems(result.error.issues, pathPrefix));
  const used = new Map<string, number>();
  const perSubnet = new Map<string, number>();
  const nodes = result.data.nodes.map((n, i) => {
    let privateIp = n.privateIp;
    if (privateIp === undefined) {
      const k = perSubnet.get(n.subnetCidr!) ?? 0;
      perSubnet.set(n.subnetCidr!, k + 1);
      const network = ipaddr.IPv4.networkAddressFromCIDR(n.subnetCidr!).toString();
      privateIp = numberToIp(ipToNumber(network) + FIRST_DERIVED_HOST + k);
    }
    return { ...n, privateIp, index: i };
  });
  const problems = nodes.flatMap((n) => {
    const clash = used.get(n.privateIp);
    used.set(n.privateIp, n.index);
    const derived = result.data.nodes[n.index].privateIp === undefined;
    const problem = clash !== undefined
      ? `is also the address of node ${clash}: every node needs its own address`
      : derived && !usableHost(n.subnetCidr!, n.privateIp)
        ? `derived as ${n.privateIp}, which ${n.subnetCidr} cannot hold. Give the address`
        : undefined;
    return problem ? [prefixProblem(pathPrefix, { path: `nodes[${n.index}].privateIp`, value: JSON.stringify(n.privateIp), message: problem })] : [];
  });
  if (problems.length > 0) throw new SpecError(problems);
  return { ...result.data, nodes: nodes.map(({ index: _index, ...n }) => n) };
}
