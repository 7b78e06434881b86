import { cidrProblem, instanceArchitecture, instanceMemoryBytes, isXenInstanceType, parseEc2Placement, SpecError } from "../../src/spec";

const node = (subnetCidr: string, az: string, extra: Record<string, string> = {}) => ({
  subnetId: `subnet-${az}`,
  availabilityZone: az,
  subnetCidr,
  ...extra,
});
const problemsOf = (input: unknown, isUnresolved?: (v: string) => boolean) => {
  try {
    parseEc2Placement(input, 3, isUnresolved);
  } catch (e) {
    if (e instanceof SpecError) return e.problems.map((p) => `${p.path} = ${p.value}: ${p.message}`);
    throw e;
  }
  return [];
};

test("addresses are derived from host 10 of each subnet, then 11 for the next node in the same subnet", () => {
  const placement = parseEc2Placement(
    {
      vpcId: "vpc-1",
      spreadAcrossAvailabilityZones: false,
      nodes: [node("10.0.1.0/24", "a"), node("10.0.1.0/24", "a"), node("10.0.2.0/24", "b")],
    },
    3,
  );
  expect(placement.nodes.map((n) => n.privateIp)).toEqual(["10.0.1.10", "10.0.1.11", "10.0.2.10"]);
});

test("a subnet CIDR written with host bits is refused, as a node's address given in the wrong field", () => {
  expect(problemsOf({ vpcId: "vpc-1", spreadAcrossAvailabilityZones: false, nodes: [node("10.0.1.0/24", "a"), node("10.0.1.0/24", "a"), node("10.0.2.5/24", "b")] })).toEqual([
    'nodes[2].subnetCidr = "10.0.2.5/24": has host bits set. Did you mean "10.0.2.0/24"? A node\'s own address goes in privateIp',
  ]);
});

test.each([
  ["10.0.0.5", 'the CIDR mask is missing. Did you mean "10.0.0.5/32"?'],
  ["10.0.0.1/16", 'has host bits set. Did you mean "10.0.0.0/16"?'],
  ["0.0.0.0/0", "opens Redis and Sentinel to every address on the internet. Name the CIDRs of the clients, such as the application subnets"],
  ["::/0", "opens Redis and Sentinel to every address on the internet. Name the CIDRs of the clients, such as the application subnets"],
  ["fd00::/8", undefined],
  ["10.0.0.0/8", undefined],
  ["ten/8", 'must be a CIDR such as "10.0.0.0/16"'],
])("client CIDR %s", (cidr, problem) => {
  expect(cidrProblem(cidr)).toBe(problem);
});

test("reserved and out-of-subnet addresses, and a subnet too small for the derived address", () => {
  expect(
    problemsOf({
      vpcId: "vpc-1",
      nodes: [
        node("10.0.1.0/24", "a", { privateIp: "10.0.1.255" }),
        node("10.0.2.0/24", "b", { privateIp: "10.0.3.20" }),
        node("10.0.3.0/24", "c", { privateIp: "10.0.3.3" }),
      ],
    }),
  ).toEqual([
    'nodes[0].privateIp = "10.0.1.255": is reserved by AWS in 10.0.1.0/24 (the first four addresses and the last)',
    'nodes[1].privateIp = "10.0.3.20": is outside its subnet 10.0.2.0/24',
    'nodes[2].privateIp = "10.0.3.3": is reserved by AWS in 10.0.3.0/24 (the first four addresses and the last)',
  ]);
  expect(problemsOf({ vpcId: "vpc-1", nodes: [node("10.0.1.0/24", "a"), node("10.0.2.0/24", "b"), node("10.0.3.0/29", "c")] })).toEqual([
    'nodes[2].privateIp = "10.0.3.10": derived as 10.0.3.10, which 10.0.3.0/29 cannot hold. Give the address',
  ]);
});

test("values known only at apply (tokens) are skipped, except a node address, which the configs need now", () => {
  const token = "${TfToken[TOKEN.1]}";
  const isUnresolved = (v: string) => v.includes("TfToken");
  expect(
    problemsOf(
      {
        vpcId: token,
        nodes: [
          { subnetId: token, availabilityZone: token, subnetCidr: token, privateIp: "10.0.1.10" },
          { subnetId: token, availabilityZone: token, privateIp: "10.0.2.10" },
          { subnetId: token, availabilityZone: token, privateIp: token },
        ],
        clientCidrs: [token],
        clientSecurityGroupIds: [token],
      },
      isUnresolved,
    ),
  ).toEqual([
    `nodes[2].privateIp = "${token}": must be a literal address: every node's configs are rendered at synth time`,
  ]);
});

describe("instance types", () => {
  test.each([
    ["t3.small", "x86_64"],
    ["m6i.large", "x86_64"],
    ["r7iz.xlarge", "x86_64"],
    ["c7i-flex.large", "x86_64"],
    ["g4dn.xlarge", "x86_64"],
    ["t4g.small", "arm64"],
    ["m7g.large", "arm64"],
    ["c6gn.xlarge", "arm64"],
    ["r8gd.2xlarge", "arm64"],
    ["im4gn.large", "arm64"],
    ["is4gen.medium", "arm64"],
    ["g5g.xlarge", "arm64"],
    ["a1.large", "arm64"],
  ] as const)("%s is %s", (type, architecture) => {
    expect(instanceArchitecture(type)).toBe(architecture);
  });

  test("Xen types are told apart from Nitro and bare metal", () => {
    for (const xen of ["t2.micro", "m4.large", "c4.xlarge", "r4.large", "i3.large", "x1e.xlarge", "p3.2xlarge"]) {
      expect(isXenInstanceType(xen)).toBe(true);
    }
    for (const nitro of ["t3.small", "m5.large", "i3.metal", "i3en.large", "p3dn.24xlarge", "t4g.small", "r6i.large"]) {
      expect(isXenInstanceType(nitro)).toBe(false);
    }
  });
});

test.each([
  ["t3.nano", 0.5], ["t3.micro", 1], ["t3a.small", 2], ["t4g.medium", 4], ["t3.2xlarge", 32],
  ["m6i.large", 8], ["m6g.medium", 4], ["m7g.4xlarge", 64], ["c6i.large", 4], ["c7g.xlarge", 8], ["r6i.large", 16], ["r6gd.2xlarge", 64], ["r5b.large", 16],
])("the memory of %s is %d GiB", (type, gib) => {
  expect(instanceMemoryBytes(type)).toBe(gib * 2 ** 30);
});

test.each(["c5n.large", "x2iedn.xlarge", "m5.metal", "m7i-flex.large", "z1d.large"])("the memory of %s is not guessed", (type) => {
  expect(instanceMemoryBytes(type)).toBeUndefined();
});
