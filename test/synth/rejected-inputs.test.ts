// The catalogue of rejected inputs: each bad configuration goes through the real constructs or
// the real stacks, and must fail with a SpecError naming the field path as the user wrote it, the value as shown,
// and the fix, before any construct joins the tree. Many inputs here are ones TypeScript would refuse: they stand
// for configs built in JavaScript or loaded from files, which only the runtime checks see.
import { Testing, TerraformStack, TerraformVariable } from "cdktf";
import type { App } from "cdktf";
import { Ec2RedisSentinel, type Ec2RedisSentinelProps } from "../../constructs/ec2-redis-sentinel";
import { KubernetesRedisSentinel, type KubernetesRedisSentinelProps } from "../../constructs/kubernetes-redis-sentinel";
import { parseSpec, SpecError, TOKEN_AT_SYNTH, type SpecProblem } from "../../src";
import { buildApp } from "../../stacks/app";
import { ENVIRONMENTS, type Environment } from "../../stacks/environments";
import { KUBERNETES_ENVIRONMENTS, type KubernetesEnvironment } from "../../stacks/kubernetes-stack";
import { EC2_PLACEMENT } from "./fixtures";

const ec2: Ec2RedisSentinelProps = { ...EC2_PLACEMENT, clientCidrs: ["10.20.100.0/24"] };
const [nodeA, nodeB, nodeC] = ec2.nodes;
const fiveNodes = [...ec2.nodes, nodeA, nodeB];
const ssmCertificates = { source: "ssm-parameters", path: "/redis-sentinel/test/tls", region: "eu-west-1" } as const;

const k8s = { namespace: "spoke", passwordSecret: "redis-passwords" } as const;
// Within 75% of the default 1Gi memory limit.
const k8sMemory = { memory: { maxmemory: "512mb" } } as const;

const dev = ENVIRONMENTS[0];
const k8sDev = KUBERNETES_ENVIRONMENTS[0];

/** One bad configuration, given to one of the constructs or to buildApp as one environment. */
type Target =
  | { readonly ec2: Record<string, unknown> }
  | { readonly kubernetes: Record<string, unknown> }
  | { readonly environment: Record<string, unknown> }
  | { readonly kubernetesEnvironment: Record<string, unknown> };
interface Case {
  readonly name: string;
  readonly target: Target;
  readonly problems: readonly SpecProblem[];
}

const problem = (path: string, value: string, message: string): SpecProblem => ({ path, value, message });

const UNKNOWN_FIELD = "unknown field. Check the spelling; the fields are listed in the README's spec reference";
const OPEN_TO_THE_WORLD =
  "opens Redis and Sentinel to every address on the internet. Name the CIDRs of the clients, such as the application subnets";
const IPV6_CIDR =
  'is an IPv6 CIDR, and the nodes have IPv4 addresses only: Redis and Sentinel listen on those. Give the clients\' IPv4 CIDR, such as "10.20.100.0/24"';
const XEN_TYPE =
  "is a Xen instance type (a previous generation): the data volume would not appear as /dev/sdf. Use a Nitro type, such as t3.small, m6i.large or t4g.small";
const RESERVED_NAME =
  "is kept for the cluster's own users (default, admin, replication, sentinel). Choose another name, such as app";
const PERMISSIONS_ONLY =
  'must list permissions only (such as "~* &* +@all -@admin -@dangerous +info"), with no quote, $, backtick or backslash in a pattern: passwords come from auth.secrets, and on/off/nopass are set by the cluster';
const NOT_A_SECRET_STORE =
  'a literal secret is not accepted: the spec says where secrets live. Use { source: "env", prefix: "REDIS_HA_" }, { source: "directory", path: "/run/secrets/redis-ha" } or { source: "ssm-parameters", path: "/redis-sentinel/prod", region: "eu-west-1" }';
const USE_3_5_OR_7 = "Use 3, 5 or 7";
const MAXMEMORY_ABOVE_LIMIT = (limit: string) =>
  `is above 75% of the Redis container's memory limit (${limit}): the pod would be killed before Redis evicts. Lower maxmemory, or raise resources.limits.memory`;

const WIDER_THAN_8 = (addresses: number) => `is wider than /8 (${addresses} addresses): name the clients' subnets, such as "10.20.100.0/24"`;
const PUBLIC_PEER =
  "holds addresses of the internet: peers must lie in private ranges (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10). Name the clients' private subnets, or set allowPublicPeers: true to admit public addresses";
const EVERY_INTERFACE =
  "binding every interface exposes Redis wherever the node has an address. The node's own address is always bound; list only extra addresses, such as 127.0.0.1";
const EVERY_NAMESPACE =
  'admits every pod of every namespace (an empty namespaceSelector matches all): give the namespace\'s labels, such as { namespaceSelector: { "kubernetes.io/metadata.name": "spoke" } }';

const NOT_BYTES = 'must be a quantity of bytes such as "2Gi" or "512Mi" (not "2GB", and "m" means thousandths)';

const cases: Case[] = [
  // Topology
  {
    name: "an even node count",
    target: { ec2: { ...ec2, spec: { topology: { nodeCount: 4 } } } },
    problems: [problem("spec.topology.nodeCount", "4", `must be odd, so that the sentinels always form a majority. ${USE_3_5_OR_7}`)],
  },
  {
    name: "a single node",
    target: { ec2: { ...ec2, nodes: [nodeA], spec: { topology: { nodeCount: 1 } } } },
    problems: [
      problem(
        "spec.topology.nodeCount",
        "1",
        `a Sentinel cluster needs at least 3 nodes so that a majority survives one failure. ${USE_3_5_OR_7}`,
      ),
    ],
  },
  {
    name: "more nodes than supported",
    target: { kubernetes: { ...k8s, spec: { topology: { nodeCount: 11 }, redis: k8sMemory } } },
    problems: [problem("spec.topology.nodeCount", "11", `at most 9 nodes are supported. ${USE_3_5_OR_7}`)],
  },
  {
    name: "a node count that is not a number",
    target: { ec2: { ...ec2, spec: { topology: { nodeCount: "3" } } } },
    problems: [problem("spec.topology.nodeCount", '"3"', "nodeCount must be a whole number")],
  },
  {
    name: "an initial master beyond the last node",
    target: { ec2: { ...ec2, spec: { topology: { initialMaster: 3 } } } },
    problems: [problem("spec.topology.initialMaster", "3", "must be a node index from 0 to 2")],
  },
  {
    name: "every replica at priority 0",
    target: { ec2: { ...ec2, spec: { topology: { replicaPriority: [100, 0, 0] } } } },
    problems: [
      problem(
        "spec.topology.replicaPriority",
        "[100,0,0]",
        "every replica has priority 0, so no failover can ever happen. Give at least one replica a priority above 0 (100 is the default)",
      ),
    ],
  },
  {
    name: "a priority list shorter than the nodes",
    target: { kubernetes: { ...k8s, spec: { topology: { replicaPriority: [100, 100] }, redis: k8sMemory } } },
    problems: [problem("spec.topology.replicaPriority", "[100,100]", "must have one entry per node: 3 entries")],
  },
  {
    name: "a placement with fewer nodes than the topology",
    target: { ec2: { ...ec2, nodes: [nodeA, nodeB] } },
    problems: [problem("nodes", '"2 nodes"', "must hold one entry per node: 3 (spec.topology.nodeCount)")],
  },

  // Quorum
  {
    name: "a quorum below a majority",
    target: { ec2: { ...ec2, nodes: fiveNodes, spec: { topology: { nodeCount: 5 }, sentinel: { quorum: 2 } } } },
    problems: [
      problem(
        "spec.sentinel.quorum",
        "2",
        "is less than a majority of 5 sentinels, so a minority could start a failover. Use 3 to 5",
      ),
    ],
  },
  {
    name: "a quorum above the node count",
    target: { ec2: { ...ec2, spec: { sentinel: { quorum: 4 } } } },
    problems: [problem("spec.sentinel.quorum", "4", "is more than the 3 sentinels that exist. Use 2 to 3")],
  },
  {
    name: "a quorum of 0",
    target: { kubernetes: { ...k8s, spec: { sentinel: { quorum: 0 }, redis: k8sMemory } } },
    problems: [problem("spec.sentinel.quorum", "0", "must be at least 1: a majority of the sentinels")],
  },

  // Timings
  {
    name: "a failover timeout no longer than down-after",
    target: { ec2: { ...ec2, spec: { sentinel: { downAfterMilliseconds: 5000, failoverTimeout: 5000 } } } },
    problems: [
      problem(
        "spec.sentinel.failoverTimeout",
        "5000",
        "must be greater than sentinel.downAfterMilliseconds (5000). Use at least twice it, such as 10000",
      ),
    ],
  },
  {
    name: "a down-after too small to tell a slow node from a dead one",
    target: { ec2: { ...ec2, spec: { sentinel: { downAfterMilliseconds: 50 } } } },
    problems: [problem("spec.sentinel.downAfterMilliseconds", "50", "must be at least 100 ms; 5000 is the usual value")],
  },
  {
    name: "a replication timeout no longer than the ping period",
    target: {
      kubernetes: { ...k8s, spec: { redis: { ...k8sMemory, replication: { pingReplicaPeriod: 10, timeout: 10 } } } },
    },
    problems: [
      problem(
        "spec.redis.replication.timeout",
        "10",
        "must be greater than redis.replication.pingReplicaPeriod (10), or replicas time out between pings",
      ),
    ],
  },
  {
    name: "a replica lag bound that lets a cut-off master outlive the failover",
    target: { ec2: { ...ec2, spec: { redis: { replication: { minReplicasMaxLag: 10 } } } } },
    problems: [
      problem(
        "spec.redis.replication.minReplicasMaxLag",
        "10",
        "must be below sentinel.downAfterMilliseconds (5000 ms), or a master cut off from its replicas keeps acknowledging writes after the sentinels promote another node, and loses them all. Use 1 to 4",
      ),
    ],
  },

  // Ports
  {
    name: "the sentinel port on the Redis port",
    target: { ec2: { ...ec2, spec: { sentinel: { port: 6379 } } } },
    problems: [problem("spec.sentinel.port", "6379", "must differ from redis.port (6379). 26379 is the usual value")],
  },
  {
    name: "a port out of range",
    target: { ec2: { ...ec2, spec: { redis: { port: 70000 } } } },
    problems: [problem("spec.redis.port", "70000", "port must be a TCP port from 1 to 65535")],
  },
  {
    name: "a plain-text port on a TLS port",
    target: { ec2: { ...ec2, spec: { tls: { enabled: true, certificates: ssmCertificates, plaintextPort: 26379 } } } },
    problems: [
      problem(
        "spec.tls.plaintextPort",
        "26379",
        "must differ from redis.port (6379) and sentinel.port (26379), which carry TLS. Use another port, such as 7379",
      ),
    ],
  },
  {
    name: "a plain-text port without TLS",
    target: { kubernetes: { ...k8s, spec: { tls: { plaintextPort: 7379 }, redis: k8sMemory } } },
    problems: [
      problem("spec.tls.plaintextPort", "7379", "is only read with TLS: without it, redis.port is plain text already. Remove it"),
    ],
  },

  // Addresses and CIDRs
  {
    name: "an address outside its subnet",
    target: { ec2: { ...ec2, nodes: [nodeA, { ...nodeB, privateIp: "10.20.9.10" }, nodeC] } },
    problems: [problem("nodes[1].privateIp", '"10.20.9.10"', "is outside its subnet 10.20.2.0/24")],
  },
  {
    name: "an address AWS reserves",
    target: { ec2: { ...ec2, nodes: [nodeA, { ...nodeB, privateIp: "10.20.2.1" }, nodeC] } },
    problems: [
      problem("nodes[1].privateIp", '"10.20.2.1"', "is reserved by AWS in 10.20.2.0/24 (the first four addresses and the last)"),
    ],
  },
  {
    name: "two nodes on one address",
    target: {
      ec2: { ...ec2, nodes: [nodeA, { ...nodeB, subnetCidr: "10.20.1.0/24", privateIp: "10.20.1.10" }, nodeC] },
    },
    problems: [
      problem("nodes[1].privateIp", '"10.20.1.10"', "is also the address of node 0: every node needs its own address"),
    ],
  },
  {
    name: "a majority of the nodes in one availability zone",
    target: { ec2: { ...ec2, nodes: [nodeA, { ...nodeB, availabilityZone: "eu-west-1a" }, nodeC] } },
    problems: [
      problem(
        "nodes[1].availabilityZone",
        '"eu-west-1a"',
        "nodes 0, 1 share eu-west-1a, a majority of 3: losing that zone loses the quorum. Spread the nodes over more zones, or set spreadAcrossAvailabilityZones: false",
      ),
    ],
  },
  {
    name: "clients from 0.0.0.0/0",
    target: { ec2: { ...ec2, clientCidrs: ["10.20.100.0/24", "0.0.0.0/0"] } },
    problems: [problem("clientCidrs[1]", '"0.0.0.0/0"', OPEN_TO_THE_WORLD)],
  },
  {
    name: "clients from ::/0",
    target: { ec2: { ...ec2, clientCidrs: ["::/0"] } },
    problems: [problem("clientCidrs[0]", '"::/0"', OPEN_TO_THE_WORLD)],
  },
  {
    name: "clients from an IPv6 CIDR (the nodes have IPv4 addresses only)",
    target: { ec2: { ...ec2, clientCidrs: ["2001:db8:1234::/48"] } },
    problems: [problem("clientCidrs[0]", '"2001:db8:1234::/48"', IPV6_CIDR)],
  },
  {
    name: "a monitoring CIDR in IPv6",
    target: { ec2: { ...ec2, monitoring: { cidrs: ["2001:db8:50::/64"] } } },
    problems: [problem("monitoring.cidrs[0]", '"2001:db8:50::/64"', IPV6_CIDR)],
  },
  {
    name: "a Xen instance type, whose data volume is not /dev/sdf",
    target: { ec2: { ...ec2, instanceType: "m4.large" } },
    problems: [problem("instanceType", '"m4.large"', XEN_TYPE)],
  },
  {
    name: "a removal policy that is neither retain nor destroy",
    target: { ec2: { ...ec2, removalPolicy: "snapshot" } },
    problems: [problem("removalPolicy", '"snapshot"', 'must be "retain" or "destroy"')],
  },
  {
    name: "a malformed client CIDR",
    target: { ec2: { ...ec2, clientCidrs: ["10.20.100.0/33"] } },
    problems: [problem("clientCidrs[0]", '"10.20.100.0/33"', 'must be a CIDR such as "10.0.0.0/16"')],
  },
  {
    name: "a client CIDR without its mask",
    target: { ec2: { ...ec2, clientCidrs: ["10.20.100.7"] } },
    problems: [problem("clientCidrs[0]", '"10.20.100.7"', 'the CIDR mask is missing. Did you mean "10.20.100.7/32"?')],
  },
  {
    name: "a client CIDR with host bits set",
    target: { ec2: { ...ec2, clientCidrs: ["10.20.100.7/24"] } },
    problems: [problem("clientCidrs[0]", '"10.20.100.7/24"', 'has host bits set. Did you mean "10.20.100.0/24"?')],
  },
  {
    name: "a client security group that is not an id",
    target: { ec2: { ...ec2, clientSecurityGroupIds: ["default"] } },
    problems: [problem("clientSecurityGroupIds[0]", '"default"', "must be a security group id such as sg-0abc1234")],
  },
  {
    name: "Redis bound to every interface",
    target: { ec2: { ...ec2, spec: { redis: { extraBindAddresses: ["0.0.0.0"] } } } },
    problems: [
      problem(
        "spec.redis.extraBindAddresses[0]",
        '"0.0.0.0"',
        "binding every interface exposes Redis wherever the node has an address. The node's own address is always bound; list only extra addresses, such as 127.0.0.1",
      ),
    ],
  },
  {
    name: "a Kubernetes client peer that selects every pod",
    target: { kubernetes: { ...k8s, spec: { redis: k8sMemory }, clients: [{ podSelector: { app: "spoke" } }, {}] } },
    problems: [
      problem(
        "clients[1]",
        "{}",
        "names no pods: give a podSelector and/or a namespaceSelector (an empty peer would admit every pod)",
      ),
    ],
  },

  // Sizes
  {
    name: "a maxmemory that is not a size",
    target: { ec2: { ...ec2, spec: { redis: { memory: { maxmemory: "lots" } } } } },
    problems: [problem("spec.redis.memory.maxmemory", '"lots"', 'must be a size string above zero such as "512mb" or "2gb"')],
  },
  {
    name: "a maxmemory above 75% of the default Kubernetes memory limit",
    target: { kubernetes: { ...k8s, spec: { redis: { memory: { maxmemory: "800mb" } } } } },
    problems: [problem("spec.redis.memory.maxmemory", '"800mb"', MAXMEMORY_ABOVE_LIMIT("1Gi"))],
  },
  {
    name: "a maxmemory above 75% of a given Kubernetes memory limit",
    target: { kubernetes: { ...k8s, spec: { redis: k8sMemory }, resources: { limits: { memory: "512Mi" } } } },
    problems: [problem("spec.redis.memory.maxmemory", '"512mb"', MAXMEMORY_ABOVE_LIMIT("512Mi"))],
  },
  {
    name: "a root volume below 8 GiB",
    target: { ec2: { ...ec2, rootVolumeGiB: 4 } },
    problems: [problem("rootVolumeGiB", "4", "must be at least 8 GiB")],
  },

  // Names
  {
    name: "a master name with a space",
    target: { ec2: { ...ec2, spec: { topology: { masterName: "spoke redis" } } } },
    problems: [
      problem("spec.topology.masterName", '"spoke redis"', "use 1 to 64 letters, digits, '.', '_' or '-', such as spoke-redis"),
    ],
  },
  {
    name: "an ACL user name in capitals",
    target: { kubernetes: { ...k8s, spec: { acl: { users: [{ name: "Spoke" }] }, redis: k8sMemory } } },
    problems: [
      problem(
        "spec.acl.users[0].name",
        '"Spoke"',
        "use 1 to 32 lower-case letters, digits, '_' or '-', starting with a letter, such as spoke",
      ),
    ],
  },
  {
    name: "an ACL user named admin",
    target: { ec2: { ...ec2, spec: { acl: { users: [{ name: "admin" }] } } } },
    problems: [problem("spec.acl.users[0].name", '"admin"', RESERVED_NAME)],
  },
  {
    name: "an ACL user named default",
    target: { kubernetes: { ...k8s, spec: { acl: { users: [{ name: "app" }, { name: "default" }] }, redis: k8sMemory } } },
    problems: [problem("spec.acl.users[1].name", '"default"', RESERVED_NAME)],
  },
  {
    name: "two ACL users of one name",
    target: { ec2: { ...ec2, spec: { acl: { users: [{ name: "spoke" }, { name: "spoke" }] } } } },
    problems: [problem("spec.acl.users[1].name", '"spoke"', "is already the name of another user. Give each user its own name")],
  },
  {
    name: "a namespace that is not a Kubernetes name",
    target: { kubernetes: { ...k8s, namespace: "Spoke NS", spec: { redis: k8sMemory } } },
    problems: [
      problem("namespace", '"Spoke NS"', "must be a namespace name: up to 63 lower-case letters, digits and '-', such as spoke"),
    ],
  },
  {
    name: "a StatefulSet name with an underscore",
    target: { kubernetes: { ...k8s, name: "redis_1", spec: { redis: k8sMemory } } },
    problems: [
      problem("name", '"redis_1"', "must be up to 40 lower-case letters, digits and '-', starting with a letter, such as redis"),
    ],
  },

  // ACL
  {
    name: "ACL rules holding a password",
    target: { ec2: { ...ec2, spec: { acl: { users: [{ name: "spoke", rules: "~* +@all >secret" }] } } } },
    problems: [problem("spec.acl.users[0].rules", "(hidden)", PERMISSIONS_ONLY)],
  },
  {
    name: "ACL rules with a shell command substitution in a key pattern (the boot script runs as root)",
    target: { ec2: { ...ec2, spec: { acl: { users: [{ name: "spoke", rules: "~$(reboot) +get" }] } } } },
    problems: [problem("spec.acl.users[0].rules", '"~$(reboot) +get"', PERMISSIONS_ONLY)],
  },
  {
    name: "ACL rules turning the user on without a password",
    target: {
      kubernetes: { ...k8s, spec: { acl: { users: [{ name: "spoke", rules: "on nopass ~* +@all" }] }, redis: k8sMemory } },
    },
    problems: [problem("spec.acl.users[0].rules", '"on nopass ~* +@all"', PERMISSIONS_ONLY)],
  },
  {
    name: "ACL users with ACL mode off",
    target: { ec2: { ...ec2, spec: { acl: { enabled: false, users: [{ name: "spoke" }] } } } },
    problems: [problem("spec.acl.users", '["spoke"]', "are only read in ACL mode: remove acl.users, or set acl.enabled to true")],
  },
  {
    name: "ACL without users",
    target: { ec2: { ...ec2, spec: { acl: { users: [] } } } },
    problems: [
      problem(
        "spec.acl.users",
        "[]",
        'ACL mode needs at least one application user, or no client can log in. Add { name: "app" }, or leave acl.users out for that default',
      ),
    ],
  },

  // TLS
  {
    name: "TLS on EC2 without certificates",
    target: { ec2: { ...ec2, spec: { tls: { enabled: true } } } },
    problems: [
      problem(
        "spec.tls.certificates",
        "(missing)",
        'is required with TLS: say where tls.crt, tls.key and ca.crt live, such as { source: "directory", path: "/etc/redis-ha/tls" }',
      ),
    ],
  },
  {
    name: "TLS on Kubernetes without a TLS Secret",
    target: { kubernetes: { ...k8s, spec: { tls: { enabled: true }, redis: k8sMemory } } },
    problems: [
      problem(
        "tlsSecret",
        "(missing)",
        "is required with TLS: name the Secret holding tls.crt, tls.key and ca.crt, such as a cert-manager Certificate's Secret",
      ),
    ],
  },
  {
    name: "certificates in the spec on Kubernetes, where the construct sets them",
    target: {
      kubernetes: {
        ...k8s,
        tlsSecret: "redis-tls",
        spec: { tls: { enabled: true, certificates: { source: "directory", path: "/etc/tls" } }, redis: k8sMemory },
      },
    },
    problems: [
      problem(
        "spec.tls.certificates",
        '{"source":"directory","path":"/etc/tls"}',
        "is set by the construct from tlsSecret: remove it, and name the Secret holding tls.crt, tls.key and ca.crt in tlsSecret",
      ),
    ],
  },
  {
    name: "certificates without TLS",
    target: { ec2: { ...ec2, spec: { tls: { certificates: ssmCertificates } } } },
    problems: [
      problem(
        "spec.tls.certificates",
        '{"source":"ssm-parameters","path":"/redis-sentinel/test/t...',
        "is only read with TLS: set tls.enabled to true, or remove tls.certificates",
      ),
    ],
  },
  {
    name: "a TLS Secret without TLS",
    target: { kubernetes: { ...k8s, tlsSecret: "redis-tls", spec: { redis: k8sMemory } } },
    problems: [problem("tlsSecret", '"redis-tls"', "is only read with TLS: set spec.tls.enabled to true, or remove tlsSecret")],
  },

  {
    name: "a data volume size Kubernetes cannot read",
    target: { kubernetes: { ...k8s, storageSize: "lots", spec: { redis: k8sMemory } } },
    problems: [problem("storageSize", '"lots"', 'must be a Kubernetes quantity such as "10Gi" or "500Mi"')],
  },
  {
    name: "an empty password Secret name",
    target: { kubernetes: { ...k8s, passwordSecret: "", spec: { redis: k8sMemory } } },
    problems: [
      problem("passwordSecret", '""', "must be the name of a Secret: lower-case letters, digits, '-' and '.', such as redis-passwords"),
    ],
  },

  // Unknown keys, at several levels
  {
    name: "a typo at the top of the spec",
    target: { ec2: { ...ec2, spec: { sentinels: { quorum: 2 } } } },
    problems: [problem("spec.sentinels", "(present)", UNKNOWN_FIELD)],
  },
  {
    name: "a typo deep in the spec",
    target: { kubernetes: { ...k8s, spec: { redis: { ...k8sMemory, persistance: { appendOnly: false } } } } },
    problems: [problem("spec.redis.persistance", "(present)", UNKNOWN_FIELD)],
  },
  {
    name: "a typo in a node",
    target: { ec2: { ...ec2, nodes: [nodeA, { ...nodeB, privateIP: "10.20.2.10" }, nodeC] } },
    problems: [problem("nodes[1].privateIP", "(present)", UNKNOWN_FIELD)],
  },
  {
    name: "a typo in the EC2 props",
    target: { ec2: { ...ec2, clientCIDRs: ["10.20.100.0/24"] } },
    problems: [problem("clientCIDRs", "(present)", UNKNOWN_FIELD)],
  },
  {
    name: "a typo in the Kubernetes props",
    target: { kubernetes: { ...k8s, tlsSecrets: "redis-tls", spec: { redis: k8sMemory } } },
    problems: [
      problem("tlsSecrets", "(present)", "unknown prop. Check the spelling; the props are listed on KubernetesRedisSentinelProps"),
    ],
  },
  {
    name: "a Kubernetes sentinel layout that does not exist",
    target: { kubernetes: { ...k8s, sentinels: "sidecars", spec: { redis: k8sMemory } } },
    problems: [problem("sentinels", '"sidecars"', 'must be "sidecar" or "separate"')],
  },

  // Literal secrets where a store is expected
  {
    name: "a password in the EC2 spec",
    target: { ec2: { ...ec2, spec: { auth: { password: "hunter2" } } } },
    problems: [
      problem(
        "spec.auth",
        "(hidden)",
        "is set by the construct: the passwords are generated into SSM SecureStrings under parameterPath. Remove spec.auth",
      ),
    ],
  },
  {
    name: "a password in the Kubernetes spec",
    target: { kubernetes: { ...k8s, spec: { auth: { secrets: "hunter2" }, redis: k8sMemory } } },
    problems: [
      problem(
        "spec.auth",
        "(hidden)",
        "is set by the construct: the passwords come from the Secret named in passwordSecret. Remove spec.auth",
      ),
    ],
  },
  {
    name: "a certificate pasted where its store belongs",
    target: { ec2: { ...ec2, spec: { tls: { enabled: true, certificates: "-----BEGIN CERTIFICATE-----" } } } },
    problems: [problem("spec.tls.certificates", '"-----BEGIN CERTIFICATE-----"', NOT_A_SECRET_STORE)],
  },

  // SSM and regions
  {
    name: "a relative SSM parameter path with a trailing slash",
    target: { ec2: { ...ec2, parameterPath: "redis/prod/" } },
    problems: [
      problem("parameterPath", '"redis/prod/"', "must be an SSM parameter path without a trailing slash, such as /redis-sentinel/prod"),
    ],
  },
  {
    name: "a region that is not an AWS region",
    target: { ec2: { ...ec2, region: "Ireland" } },
    problems: [problem("region", '"Ireland"', "must be an AWS region, such as eu-west-1")],
  },
  {
    name: "a certificate store in a malformed region",
    target: { ec2: { ...ec2, spec: { tls: { enabled: true, certificates: { ...ssmCertificates, region: "eu-west" } } } } },
    problems: [problem("spec.tls.certificates.region", '"eu-west"', "must be an AWS region, such as eu-west-1")],
  },

  // Several problems at once: one error lists them all, spec and placement together
  {
    name: "two nodes, a weak quorum and an open CIDR together",
    target: {
      ec2: {
        ...ec2,
        nodes: [nodeA, nodeB],
        clientCidrs: ["0.0.0.0/0"],
        spec: { topology: { nodeCount: 2 }, sentinel: { quorum: 1 }, redis: { port: 0 } },
      },
    },
    problems: [
      problem(
        "spec.topology.nodeCount",
        "2",
        `a Sentinel cluster needs at least 3 nodes so that a majority survives one failure. ${USE_3_5_OR_7}`,
      ),
      problem("spec.redis.port", "0", "port must be a TCP port from 1 to 65535"),
      problem("clientCidrs[0]", '"0.0.0.0/0"', OPEN_TO_THE_WORLD),
    ],
  },

  // Through the stacks: the path starts at the environment
  {
    name: "an environment in a region that is not an AWS region",
    target: { environment: { ...dev, region: "europe" } },
    problems: [problem("dev.region", '"europe"', "must be an AWS region, such as eu-west-1")],
  },
  {
    name: "an environment whose state bucket is not a bucket name",
    target: { environment: { ...dev, backend: { type: "s3", bucket: "Terraform_State" } } },
    problems: [
      problem(
        "dev.backend.bucket",
        '"Terraform_State"',
        "must be an S3 bucket name: 3 to 63 lower-case letters, digits, '.' and '-', such as my-terraform-state",
      ),
    ],
  },
  {
    name: "an environment with a typo",
    target: { environment: { ...dev, clusters: dev.cluster } },
    problems: [problem("dev.clusters", "(present)", UNKNOWN_FIELD)],
  },
  {
    name: "an environment whose cluster has a quorum below a majority",
    target: { environment: { ...dev, cluster: { ...dev.cluster, spec: { sentinel: { quorum: 1 } } } } },
    problems: [
      problem(
        "dev.cluster.spec.sentinel.quorum",
        "1",
        "is less than a majority of 3 sentinels, so a minority could start a failover. Use 2 to 3",
      ),
    ],
  },
  {
    name: "an environment whose clients are the whole internet",
    target: { environment: { ...dev, cluster: { ...dev.cluster, clientCidrs: ["0.0.0.0/0"] } } },
    problems: [problem("dev.cluster.clientCidrs[0]", '"0.0.0.0/0"', OPEN_TO_THE_WORLD)],
  },
  {
    name: "a Kubernetes environment with TLS and no TLS Secret",
    target: {
      kubernetesEnvironment: {
        ...k8sDev,
        cluster: { ...k8sDev.cluster, spec: { ...k8sDev.cluster.spec, tls: { enabled: true } } },
      },
    },
    problems: [
      problem(
        "tlsSecret",
        "(missing)",
        "is required with TLS: name the Secret holding tls.crt, tls.key and ca.crt, such as a cert-manager Certificate's Secret",
      ),
    ],
  },
  // The whole internet in disguise
  {
    name: "the internet as two halves in the client CIDRs",
    target: { ec2: { ...ec2, clientCidrs: ["0.0.0.0/1", "128.0.0.0/1"] } },
    problems: [
      problem("clientCidrs[0]", '"0.0.0.0/1"', WIDER_THAN_8(2147483648)),
      problem("clientCidrs[1]", '"128.0.0.0/1"', WIDER_THAN_8(2147483648)),
    ],
  },
  {
    name: "a public client CIDR without allowPublicPeers",
    target: { ec2: { ...ec2, clientCidrs: ["52.95.0.0/16"] } },
    problems: [problem("clientCidrs[0]", '"52.95.0.0/16"', PUBLIC_PEER)],
  },
  {
    name: "a client CIDR wider than /8, even with allowPublicPeers",
    target: { ec2: { ...ec2, allowPublicPeers: true, clientCidrs: ["0.0.0.0/7"] } },
    problems: [problem("clientCidrs[0]", '"0.0.0.0/7"', WIDER_THAN_8(33554432))],
  },
  {
    name: "a public monitoring CIDR",
    target: { ec2: { ...ec2, monitoring: { cidrs: ["8.8.8.0/24"] } } },
    problems: [problem("monitoring.cidrs[0]", '"8.8.8.0/24"', PUBLIC_PEER)],
  },
  {
    name: "every interface spelt ::0",
    target: { ec2: { ...ec2, spec: { redis: { extraBindAddresses: ["::0"] } } } },
    problems: [problem("spec.redis.extraBindAddresses[0]", '"::0"', EVERY_INTERFACE)],
  },
  {
    name: "every interface spelt out in IPv6",
    target: { ec2: { ...ec2, spec: { redis: { extraBindAddresses: ["0:0:0:0:0:0:0:0"] } } } },
    problems: [problem("spec.redis.extraBindAddresses[0]", '"0:0:0:0:0:0:0:0"', EVERY_INTERFACE)],
  },
  {
    name: "every IPv4 interface as an IPv4-mapped address",
    target: { ec2: { ...ec2, spec: { redis: { extraBindAddresses: ["::ffff:0.0.0.0"] } } } },
    problems: [problem("spec.redis.extraBindAddresses[0]", '"::ffff:0.0.0.0"', EVERY_INTERFACE)],
  },
  {
    name: "a Kubernetes client peer with an empty namespaceSelector",
    target: { kubernetes: { ...k8s, clients: [{ namespaceSelector: {} }] } },
    problems: [problem("clients[0]", '{"namespaceSelector":{}}', EVERY_NAMESPACE)],
  },
  {
    name: "a Prometheus peer with empty selectors",
    target: { kubernetes: { ...k8s, monitoring: { peers: [{ namespaceSelector: {}, podSelector: {} }] } } },
    problems: [problem("monitoring.peers[0]", '{"namespaceSelector":{},"podSelector":{}}', EVERY_NAMESPACE)],
  },
  // EC2 placement that would fail only at apply or boot
  {
    name: "a zone outside the region",
    target: { ec2: { ...ec2, nodes: [{ ...nodeA, availabilityZone: "us-east-1a" }, nodeB, nodeC] } },
    problems: [problem("nodes[0].availabilityZone", '"us-east-1a"', "is not a zone of region eu-west-1: those are named eu-west-1a, eu-west-1b, ...")],
  },
  {
    name: "one subnet given two zones",
    target: { ec2: { ...ec2, spreadAcrossAvailabilityZones: false, nodes: [nodeA, { ...nodeA, availabilityZone: "eu-west-1b" }, nodeC] } },
    problems: [problem("nodes[1].availabilityZone", '"eu-west-1b"', "differs from nodes[0].availabilityZone (eu-west-1a), in the same subnet subnet-a: a subnet has one zone")],
  },
  {
    name: "a subnet CIDR with host bits set",
    target: { ec2: { ...ec2, nodes: [{ ...nodeA, subnetCidr: "10.20.1.7/24" }, nodeB, nodeC] } },
    problems: [problem("nodes[0].subnetCidr", '"10.20.1.7/24"', 'has host bits set. Did you mean "10.20.1.0/24"? A node\'s own address goes in privateIp')],
  },
  {
    name: "a malformed subnet id",
    target: { ec2: { ...ec2, nodes: [{ ...nodeA, subnetId: "sn-1234" }, nodeB, nodeC] } },
    problems: [problem("nodes[0].subnetId", '"sn-1234"', "must be a subnet id, such as subnet-0abc1234")],
  },
  {
    name: "a malformed image id",
    target: { ec2: { ...ec2, amiId: "debian-12" } },
    problems: [problem("amiId", '"debian-12"', "must be an image id, such as ami-0123456789abcdef0")],
  },
  {
    name: "a KMS alias given as the key ARN",
    target: { ec2: { ...ec2, kmsKeyArn: "alias/redis" } },
    problems: [
      problem(
        "kmsKeyArn",
        '"alias/redis"',
        "must be the ARN of a KMS key, such as arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (not an alias or a key id)",
      ),
    ],
  },
  {
    name: "a data volume above gp3's 16 TiB",
    target: { ec2: { ...ec2, dataVolumeGiB: 20000 } },
    problems: [problem("dataVolumeGiB", "20000", "must be at most 16384 GiB (16 TiB), the largest gp3 volume")],
  },
  {
    name: "a maxmemory above 75% of the instance type's memory",
    target: { ec2: { ...ec2, instanceType: "t3.small", spec: { redis: { memory: { maxmemory: "2gb" } } } } },
    problems: [
      problem(
        "spec.redis.memory.maxmemory",
        '"2gb"',
        "is above 75% of the 2 GiB of instanceType t3.small: the node would run out of memory before Redis evicts, above all while it saves. Lower maxmemory, or choose a larger instanceType",
      ),
    ],
  },
  {
    name: "TLS certificates from environment variables on a VM",
    target: { ec2: { ...ec2, spec: { tls: { enabled: true, certificates: { source: "env", prefix: "REDIS_TLS_" } } } } },
    problems: [
      problem(
        "spec.tls.certificates",
        '{"source":"env","prefix":"REDIS_TLS_"}',
        'cannot be read on a VM: the boot unit has no such environment. Keep the certificates in SSM, such as { source: "ssm-parameters", path: "/redis-sentinel/prod/tls", region: "eu-west-1" }',
      ),
    ],
  },
  // ACL rules Redis would refuse at boot (its command table, read from a real redis-server)
  {
    name: "an ACL category Redis does not have",
    target: { ec2: { ...ec2, spec: { acl: { users: [{ name: "app", rules: "~* +@reads" }] } } } },
    problems: [
      problem(
        "spec.acl.users[0].rules",
        '"~* +@reads"',
        "+@reads: Redis 7.0.15 has no ACL category \"reads\" (ACL CAT: admin, bitmap, blocking, connection, dangerous, fast, geo, hash, hyperloglog, keyspace, list, pubsub, read, scripting, set, slow, sortedset, stream, string, transaction, write)",
      ),
    ],
  },
  {
    name: "an ACL command Redis does not have",
    target: { ec2: { ...ec2, spec: { acl: { users: [{ name: "app", rules: "~* +gett" }] } } } },
    problems: [problem("spec.acl.users[0].rules", '"~* +gett"', '+gett: Redis 7.0.15 has no command "gett" (COMMAND LIST)')],
  },
  {
    name: "an ACL subcommand Redis does not have",
    target: { kubernetes: { ...k8s, spec: { redis: k8sMemory, acl: { users: [{ name: "app", rules: "~* +client|nosuch" }] } } } },
    problems: [
      problem(
        "spec.acl.users[0].rules",
        '"~* +client|nosuch"',
        '+client|nosuch: client has no subcommand "nosuch" in Redis 7.0.15; it has caching, getname, getredir, help, id, info, kill, list, no-evict, pause, reply, setname, tracking, trackinginfo, unblock, unpause',
      ),
    ],
  },
  // Values shown as they are, never a key
  {
    name: "a maxmemory below 1mb",
    target: { ec2: { ...ec2, spec: { redis: { memory: { maxmemory: "100kb" } } } } },
    problems: [problem("spec.redis.memory.maxmemory", '"100kb"', 'is below 1mb, surely a mistake (Redis says so too): give a size such as "512mb" or "2gb"')],
  },
  {
    name: "a maxmemory past 64 bits",
    target: { ec2: { ...ec2, spec: { redis: { memory: { maxmemory: "99999999999999gb" } } } } },
    problems: [problem("spec.redis.memory.maxmemory", '"99999999999999gb"', 'is larger than Redis can hold (64 bits): give a size such as "64gb"')],
  },
  {
    name: "a NaN node count, shown as NaN",
    target: { ec2: { ...ec2, spec: { topology: { nodeCount: NaN } } } },
    problems: [problem("spec.topology.nodeCount", "NaN", "nodeCount must be a whole number")],
  },
  {
    name: "a private key pasted into a field, never echoed",
    target: { kubernetes: { ...k8s, spec: { tls: { enabled: true } }, tlsSecret: "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC" } },
    problems: [problem("tlsSecret", "(hidden: a private key)", "must be the name of a Secret: lower-case letters, digits, '-' and '.', such as redis-tls")],
  },
  // Kubernetes quantities and objects
  {
    name: "a zero memory limit",
    target: { kubernetes: { ...k8s, resources: { limits: { memory: "0Gi" } } } },
    problems: [problem("resources.limits.memory", '"0Gi"', "must be above zero")],
  },
  {
    name: "a memory limit in thousandths of a byte",
    target: { kubernetes: { ...k8s, resources: { limits: { memory: "512m" } } } },
    problems: [problem("resources.limits.memory", '"512m"', NOT_BYTES)],
  },
  {
    name: "a memory limit with a suffix Kubernetes does not know",
    target: { kubernetes: { ...k8s, resources: { limits: { memory: "2GB" } } } },
    problems: [problem("resources.limits.memory", '"2GB"', NOT_BYTES)],
  },
  {
    name: "requests above limits",
    target: { kubernetes: { ...k8s, resources: { requests: { memory: "2Gi", cpu: "2" }, limits: { memory: "4Gi", cpu: "500m" } } } },
    problems: [
      problem("resources.requests.cpu", '"2"', "is above its limit (500m): Kubernetes refuses such a pod. Lower the request or raise the limit"),
    ],
  },
  {
    name: "a misspelt resource",
    target: { kubernetes: { ...k8s, resources: { limits: { memroy: "1Gi" } } } },
    problems: [
      problem("resources.limits.memroy", '"1Gi"', "is not a resource of a container: use cpu, memory or ephemeral-storage (or an extended resource such as nvidia.com/gpu)"),
    ],
  },
  {
    name: "a maxmemory above 75% of a fractional memory limit",
    target: { kubernetes: { ...k8s, spec: { redis: { memory: { maxmemory: "1200mb" } } }, resources: { limits: { memory: "1.5Gi" } } } },
    problems: [problem("spec.redis.memory.maxmemory", '"1200mb"', MAXMEMORY_ABOVE_LIMIT("1.5Gi"))],
  },
  {
    name: "a storage class name Kubernetes refuses",
    target: { kubernetes: { ...k8s, storageClassName: "GP3 fast" } },
    problems: [problem("storageClassName", '"GP3 fast"', "must be the name of a StorageClass: lower-case letters, digits, '-' and '.', such as gp3")],
  },
  {
    name: "an empty image",
    target: { kubernetes: { ...k8s, image: "" } },
    problems: [problem("image", '""', 'must be an image reference with no space, such as "redis:7.2"')],
  },
  {
    name: "a zero volume size",
    target: { kubernetes: { ...k8s, storageSize: "0Gi" } },
    problems: [problem("storageSize", '"0Gi"', "must be above zero")],
  },
  // A value of the wrong type: our words, never a crash or zod's default wording
  {
    name: "a string where the monitoring CIDRs list is expected",
    target: { ec2: { ...ec2, monitoring: { cidrs: "10.20.200.0/24" } } },
    problems: [problem("monitoring.cidrs", '"10.20.200.0/24"', 'must be a list of IPv4 CIDRs, such as ["10.20.200.0/24"]')],
  },
  {
    name: "a string where the client CIDRs list is expected",
    target: { ec2: { ...ec2, clientCidrs: "10.20.100.0/24" } },
    problems: [problem("clientCidrs", '"10.20.100.0/24"', "must be a list, not a string")],
  },
  {
    name: "a string where the Kubernetes clients list is expected",
    target: { kubernetes: { ...k8s, clients: "spoke" } },
    problems: [problem("clients", '"spoke"', 'must be a list of peers, such as [{ namespaceSelector: { "kubernetes.io/metadata.name": "spoke" } }]')],
  },
  {
    name: "a string where a spec section is expected",
    target: { ec2: { ...ec2, spec: { redis: "big" } } },
    problems: [problem("spec.redis", '"big"', "must be an object of fields, not a string")],
  },
  {
    name: "a string where a spec boolean is expected",
    target: { ec2: { ...ec2, spec: { acl: { enabled: "false" } } } },
    problems: [problem("spec.acl.enabled", '"false"', "must be true or false, not a string")],
  },
  {
    name: "a string for generatePasswords (which would create the Secret)",
    target: { kubernetes: { ...k8s, generatePasswords: "false" } },
    problems: [problem("generatePasswords", '"false"', "must be true or false, not a string")],
  },
  {
    name: "a string for sessionManager",
    target: { ec2: { ...ec2, sessionManager: "false" } },
    problems: [problem("sessionManager", '"false"', "must be true or false, not a string")],
  },
  {
    name: "a string for monitoring.prometheusRule",
    target: { kubernetes: { ...k8s, monitoring: { peers: [{ namespaceSelector: { "kubernetes.io/metadata.name": "monitoring" } }], prometheusRule: "no" } } },
    problems: [problem("monitoring.prometheusRule", '"no"', "must be true or false, not a string")],
  },
  // Nested props: null (as from JSON) is not "left out", and a misspelt key is not ignored
  {
    name: "monitoring: null on Kubernetes",
    target: { kubernetes: { ...k8s, monitoring: null } },
    problems: [
      problem("monitoring", "null", 'must be an object such as { peers: [{ namespaceSelector: { "kubernetes.io/metadata.name": "monitoring" } }] }, or left out'),
    ],
  },
  {
    name: "notifications.webhookUrlSecret: null",
    target: { kubernetes: { ...k8s, notifications: { webhookUrlSecret: null } } },
    problems: [problem("notifications.webhookUrlSecret", "null", 'must name a Secret and one of its keys, such as { name: "redis-webhook", key: "url" }')],
  },
  {
    name: "a misspelt key of the Kubernetes monitoring prop",
    target: { kubernetes: { ...k8s, monitoring: { peers: [{ namespaceSelector: { "kubernetes.io/metadata.name": "monitoring" } }], imgae: "exporter:1" } } },
    problems: [problem("monitoring.imgae", "(present)", "unknown prop. Check the spelling; monitoring takes peers, image, prometheusRule, alertRules")],
  },
  {
    name: "notifications: null on EC2",
    target: { ec2: { ...ec2, notifications: null } },
    problems: [
      problem("notifications", "null", 'must be an object such as { snsTopicArn: "arn:aws:sns:eu-west-1:123456789012:redis-ha-events" }, or left out'),
    ],
  },
  {
    name: "a misspelt backups key (the retention would silently stay 14 days)",
    target: { ec2: { ...ec2, backups: { retentionDay: 3 } } },
    problems: [problem("backups.retentionDay", "(present)", "unknown prop. Check the spelling; backups takes bucketName, retentionDays")],
  },
  {
    name: "alarms as a string",
    target: { ec2: { ...ec2, alarms: "arn:aws:sns:eu-west-1:123456789012:redis-ha-alarms" } },
    problems: [
      problem(
        "alarms",
        '"arn:aws:sns:eu-west-1:123456789012:redis-ha-alarms"',
        'must be an object such as { snsTopicArn: "arn:aws:sns:eu-west-1:123456789012:redis-ha-alarms" }, or true, or left out',
      ),
    ],
  },
];

/** Builds the target; returns what it threw and the stack it was built in (for buildApp, the environment's stack). */
function attempt(target: Target): { error: unknown; stack: TerraformStack | undefined } {
  const app: App = Testing.app();
  let stack: TerraformStack | undefined;
  let error: unknown;
  try {
    if ("ec2" in target) {
      stack = new TerraformStack(app, "test");
      new Ec2RedisSentinel(stack, "redis", target.ec2 as unknown as Ec2RedisSentinelProps);
    } else if ("kubernetes" in target) {
      stack = new TerraformStack(app, "test");
      new KubernetesRedisSentinel(stack, "redis", target.kubernetes as unknown as KubernetesRedisSentinelProps);
    } else if ("environment" in target) {
      buildApp([target.environment as unknown as Environment], app, []);
    } else {
      buildApp([], app, [target.kubernetesEnvironment as unknown as KubernetesEnvironment]);
    }
  } catch (e) {
    error = e;
  }
  // buildApp makes the stack before checking the environment: it is the app's only child.
  stack ??= app.node.children[0] as TerraformStack | undefined;
  return { error, stack };
}

test("the catalogue holds at least 35 distinct bad configurations", () => {
  expect(cases.length).toBeGreaterThanOrEqual(35);
  expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  expect(new Set(cases.map((c) => JSON.stringify(c.target))).size).toBe(cases.length);
});

test.each(cases)("rejects $name", ({ target, problems }) => {
  const { error, stack } = attempt(target);

  expect(error).toBeInstanceOf(SpecError);
  const specError = error as SpecError;
  expect(specError.problems).toEqual(problems);
  for (const p of problems) expect(specError.message).toContain(`\n  - ${p.path} = ${p.value}: ${p.message}`);

  // Nothing was created: the stack holds no construct, and synthesizes no resource or data source.
  expect(stack).toBeDefined();
  expect(stack!.node.children).toEqual([]);
  const json = JSON.parse(Testing.synth(stack!));
  expect(json.resource).toBeUndefined();
  expect(json.data).toBeUndefined();
});

test("allowFrom an IPv6 CIDR is refused, and adds no rule", () => {
  const stack = new TerraformStack(Testing.app(), "test");
  const cluster = new Ec2RedisSentinel(stack, "redis", ec2);
  const before = Object.keys(JSON.parse(Testing.synth(stack)).resource.aws_vpc_security_group_ingress_rule);
  expect(() => cluster.allowFrom({ cidr: "2001:db8::/32" })).toThrow(`allowFrom.cidr = "2001:db8::/32": ${IPV6_CIDR}`);
  expect(Object.keys(JSON.parse(Testing.synth(stack)).resource.aws_vpc_security_group_ingress_rule)).toEqual(before);
});

test("allowFrom 0.0.0.0/0 is refused, and adds no rule", () => {
  const stack = new TerraformStack(Testing.app(), "test");
  const cluster = new Ec2RedisSentinel(stack, "redis", ec2);
  const ingressRules = () => Object.keys(JSON.parse(Testing.synth(stack)).resource.aws_vpc_security_group_ingress_rule);
  const before = ingressRules();

  let error: unknown;
  try {
    cluster.allowFrom({ cidr: "0.0.0.0/0" });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(SpecError);
  expect((error as SpecError).problems).toEqual([problem("allowFrom.cidr", '"0.0.0.0/0"', OPEN_TO_THE_WORLD)]);
  expect(ingressRules()).toEqual(before);
});

describe("props or a spec that are not objects", () => {
  test.each([
    ["missing", undefined, "(missing)"],
    ["null", null, "null"],
    ["a list", [], "(a list)"],
  ])("props %s: a SpecError naming the required props, nothing created", (_, props, value) => {
    for (const [make, required] of [
      [(stack: TerraformStack) => new Ec2RedisSentinel(stack, "redis", props as unknown as Ec2RedisSentinelProps), 'region: "eu-west-1"'],
      [(stack: TerraformStack) => new KubernetesRedisSentinel(stack, "redis", props as unknown as KubernetesRedisSentinelProps), 'passwordSecret: "redis-passwords"'],
    ] as const) {
      const stack = new TerraformStack(Testing.app(), "test");
      let error: unknown;
      try {
        make(stack);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SpecError);
      expect((error as SpecError).problems).toEqual([expect.objectContaining({ path: "props", value })]);
      expect((error as SpecError).problems[0].message).toContain(required);
      expect(stack.node.children).toEqual([]);
    }
  });

  test.each([undefined, null, [], "spec"])("parseSpec(%p) is a SpecError, not a TypeError", (input) => {
    expect(() => parseSpec(input)).toThrow(SpecError);
    expect(() => parseSpec(input)).toThrow('  - (spec) = ');
    expect(() => parseSpec(input)).toThrow('must be an object, such as { auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } }');
  });

  test("spec: null is no spec, for both constructs", () => {
    const stack = new TerraformStack(Testing.app(), "test");
    expect(new Ec2RedisSentinel(stack, "vm", { ...ec2, spec: null } as unknown as Ec2RedisSentinelProps).config.topology.nodeCount).toBe(3);
    expect(new KubernetesRedisSentinel(stack, "pods", { ...k8s, spec: null } as unknown as KubernetesRedisSentinelProps).config.topology.nodeCount).toBe(3);
  });
});

describe("the Kubernetes defaults pass together", () => {
  const maxmemory = (props: Record<string, unknown>) =>
    new KubernetesRedisSentinel(new TerraformStack(Testing.app(), "test"), "redis", { ...k8s, ...props } as KubernetesRedisSentinelProps).config.redis.memory.maxmemory;

  test("the minimal props (a namespace and a passwordSecret) synthesize, with maxmemory 75% of the default 1Gi limit", () => {
    expect(maxmemory({})).toBe("768mb");
    expect(maxmemory({ spec: {} })).toBe("768mb");
    expect(maxmemory({ spec: { redis: { memory: { policy: "noeviction" } } } })).toBe("768mb");
  });

  test("fractional quantities are read: a 1.5Gi limit caps the default maxmemory at 1152mb", () => {
    expect(maxmemory({ resources: { limits: { memory: "1.5Gi" } } })).toBe("1152mb");
  });

  test("a memory limit below the default request of 256Mi lowers the request to the limit", () => {
    const stack = new TerraformStack(Testing.app(), "test");
    new KubernetesRedisSentinel(stack, "redis", { ...k8s, resources: { limits: { memory: "128Mi" } }, spec: { redis: { memory: { maxmemory: "64mb" } } } } as KubernetesRedisSentinelProps);
    const set = Object.values(JSON.parse(Testing.synth(stack)).resource.kubernetes_stateful_set_v1)[0] as any;
    const redis = set.spec.template.spec.container.find((c: any) => c.name === "redis");
    expect(redis.resources).toMatchObject({ requests: { memory: "128Mi" }, limits: { memory: "128Mi" } });
  });

  test("the default maxmemory (2gb) is kept where the limit allows it, and a given one is never changed", () => {
    expect(maxmemory({ resources: { limits: { memory: "4Gi" } } })).toBe("2gb");
    expect(maxmemory({ resources: { limits: { memory: "512Mi" } } })).toBe("384mb");
    expect(maxmemory({ spec: { redis: { memory: { maxmemory: "100mb" } } } })).toBe("100mb");
  });
});

test("a peer given twice is merged: one rule per port, also for a node's own /32 and a repeated allowFrom", () => {
  const stack = new TerraformStack(Testing.app(), "test");
  const cluster = new Ec2RedisSentinel(stack, "redis", {
    ...ec2,
    clientCidrs: ["10.20.100.0/24", "10.20.100.0/24", "10.20.1.10/32"],
    clientSecurityGroupIds: ["sg-0123456789abcdef0", "sg-0123456789abcdef0"],
    monitoring: { cidrs: ["10.20.200.0/24", "10.20.200.0/24"] },
  });
  cluster.allowFrom({ cidr: "10.20.100.0/24" });
  cluster.allowFrom({ securityGroupId: "sg-0123456789abcdef0" });
  cluster.allowFrom({ cidr: "10.20.2.10/32" });
  const rules = Object.values(JSON.parse(Testing.synth(stack)).resource.aws_vpc_security_group_ingress_rule) as Array<Record<string, unknown>>;
  const peers = rules.map((r) => `${r.cidr_ipv4 ?? r.referenced_security_group_id}:${r.from_port}`).sort();
  expect(peers).toEqual(
    [
      ...["10.20.1.10/32", "10.20.2.10/32", "10.20.3.10/32", "10.20.100.0/24", "sg-0123456789abcdef0"].flatMap((p) => [`${p}:6379`, `${p}:26379`]),
      "10.20.200.0/24:9121",
    ].sort(),
  );
});

test("allowPublicPeers admits a public client CIDR; allowFrom refuses a public or too wide one without it, adding no rule", () => {
  const stack = new TerraformStack(Testing.app(), "test");
  const open = new Ec2RedisSentinel(stack, "open", { ...ec2, allowPublicPeers: true, clientCidrs: ["52.95.0.0/16"] });
  open.allowFrom({ cidr: "8.8.8.0/24" });
  const closed = new Ec2RedisSentinel(stack, "closed", ec2);
  const rules = () => Object.values(JSON.parse(Testing.synth(stack)).resource.aws_vpc_security_group_ingress_rule) as Array<Record<string, unknown>>;
  const before = rules().length;
  expect(() => closed.allowFrom({ cidr: "8.8.8.0/24" })).toThrow(`allowFrom.cidr = "8.8.8.0/24": ${PUBLIC_PEER}`);
  expect(() => closed.allowFrom({ cidr: "0.0.0.0/1" })).toThrow(`allowFrom.cidr = "0.0.0.0/1": ${WIDER_THAN_8(2147483648)}`);
  expect(() => open.allowFrom({ cidr: "0.0.0.0/1" })).toThrow(WIDER_THAN_8(2147483648));
  expect(rules().length).toBe(before);
  expect(rules().map((r) => r.cidr_ipv4)).toEqual(expect.arrayContaining(["52.95.0.0/16", "8.8.8.0/24", "10.20.100.0/24"]));
});

test("EC2 allowFrom refuses no peer, or an empty one, as a SpecError", () => {
  const cluster = new Ec2RedisSentinel(new TerraformStack(Testing.app(), "test"), "redis", ec2);
  for (const peer of [undefined, {}, { cidr: 10 }]) {
    expect(() => cluster.allowFrom(peer as unknown as { cidr: string })).toThrow(SpecError);
    expect(() => cluster.allowFrom(peer as unknown as { cidr: string })).toThrow('must be { cidr: "10.20.100.0/24" } or { securityGroupId: "sg-0abc1234" }');
  }
});

test("Kubernetes allowFrom refuses a peer that admits every namespace, or no peer at all", () => {
  const cluster = new KubernetesRedisSentinel(new TerraformStack(Testing.app(), "test"), "redis", k8s);
  expect(() => cluster.allowFrom({ namespaceSelector: {} })).toThrow(`allowFrom = {"namespaceSelector":{}}: ${EVERY_NAMESPACE}`);
  expect(() => cluster.allowFrom(undefined as unknown as { podSelector: Record<string, string> })).toThrow("allowFrom = (missing): must be a peer");
  expect(() => cluster.allowFrom({ namespaceSelector: {}, podSelector: { app: "spoke" } })).not.toThrow();
});

describe("the EC2 defaults pass together", () => {
  const maxmemory = (props: Record<string, unknown>) =>
    new Ec2RedisSentinel(new TerraformStack(Testing.app(), "test"), "redis", { ...ec2, ...props } as Ec2RedisSentinelProps).config.redis.memory.maxmemory;

  test("the default maxmemory is capped at 75% of the instance type's memory, where it is known", () => {
    expect(maxmemory({})).toBe("1536mb"); // t3.small, 2 GiB
    expect(maxmemory({ instanceType: "t3.micro" })).toBe("768mb");
    expect(maxmemory({ instanceType: "r6i.large" })).toBe("2gb");
    expect(maxmemory({ instanceType: "x2iedn.xlarge" })).toBe("2gb"); // not in the table: the default, unchecked
    expect(maxmemory({ instanceType: "t3.micro", spec: { redis: { memory: { maxmemory: "700mb" } } } })).toBe("700mb");
  });
});

describe("Terraform tokens", () => {
  const TOKEN = "(a Terraform token)";
  const refused = (make: (stack: TerraformStack) => unknown) => {
    const stack = new TerraformStack(Testing.app(), "test");
    try {
      make(stack);
    } catch (e) {
      expect(stack.node.children.filter((c) => !(c instanceof TerraformVariable))).toEqual([]);
      return (e as SpecError).problems;
    }
    throw new Error("accepted");
  };
  const variable = (stack: TerraformStack, name: string, type: string) => new TerraformVariable(stack, name, { type });

  test("are refused, with the reason, where the configs are rendered from them", () => {
    expect(refused((s) => new Ec2RedisSentinel(s, "redis", { ...ec2, region: variable(s, "region", "string").stringValue }))).toEqual([
      problem("region", TOKEN, TOKEN_AT_SYNTH),
    ]);
    expect(refused((s) => new Ec2RedisSentinel(s, "redis", { ...ec2, instanceType: variable(s, "type", "string").stringValue }))).toEqual([
      problem("instanceType", TOKEN, TOKEN_AT_SYNTH),
    ]);
    expect(
      refused((s) => new Ec2RedisSentinel(s, "redis", { ...ec2, spec: { redis: { memory: { maxmemory: variable(s, "mm", "string").stringValue } } } })),
    ).toEqual([problem("spec.redis.memory.maxmemory", TOKEN, TOKEN_AT_SYNTH)]);
    expect(refused((s) => new Ec2RedisSentinel(s, "redis", { ...ec2, spec: { topology: { nodeCount: variable(s, "n", "number").numberValue } } }))).toEqual([
      problem("spec.topology.nodeCount", TOKEN, TOKEN_AT_SYNTH),
    ]);
    expect(refused((s) => new Ec2RedisSentinel(s, "redis", { ...ec2, clientCidrs: variable(s, "cidrs", "list(string)").listValue }))[0].path).toBe("clientCidrs");
    expect(refused((s) => new KubernetesRedisSentinel(s, "redis", { ...k8s, namespace: variable(s, "ns", "string").stringValue }))).toEqual([
      problem("namespace", TOKEN, TOKEN_AT_SYNTH),
    ]);
    expect(
      refused((s) => new KubernetesRedisSentinel(s, "redis", { ...k8s, spec: { redis: { memory: { maxmemory: variable(s, "mm", "string").stringValue } } } })),
    ).toEqual([problem("spec.redis.memory.maxmemory", TOKEN, TOKEN_AT_SYNTH)]);
  });

  test("are accepted where they only become resource attributes", () => {
    const stack = new TerraformStack(Testing.app(), "test");
    const size = variable(stack, "size", "number").numberValue;
    const cidr = variable(stack, "cidr", "string").stringValue;
    new Ec2RedisSentinel(stack, "vm", { ...ec2, dataVolumeGiB: size, clientCidrs: ["10.20.100.0/24", cidr] });
    const secret = variable(stack, "secret", "string").stringValue;
    const limit = variable(stack, "limit", "string").stringValue;
    new KubernetesRedisSentinel(stack, "pods", { ...k8s, passwordSecret: secret, resources: { limits: { memory: limit } }, spec: { redis: k8sMemory } });
    const json = JSON.parse(Testing.synth(stack));
    expect((Object.values(json.resource.aws_ebs_volume) as Array<{ size: unknown }>).map((v) => v.size)).toEqual(["${var.size}", "${var.size}", "${var.size}"]);
    expect(JSON.stringify(json.resource.aws_vpc_security_group_ingress_rule)).toContain('"cidr_ipv4":"${var.cidr}"');
    const text = JSON.stringify(json.resource.kubernetes_stateful_set_v1);
    expect(text).toContain('"secret_name":"${var.secret}"');
    expect(text).toContain('"memory":"${var.limit}"');
  });
});
