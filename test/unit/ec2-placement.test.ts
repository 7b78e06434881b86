import { cidrProblem, parseEc2Placement, SpecError } from "../../src/spec";

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
      nodes: [node("10.0.1.0/24", "a"), node("10.0.1.0/24", "a"), node("10.0.2.5/24", "b")],
    },
    3,
  );
  // A CIDR written with host bits still derives from its network address.
  expect(placement.nodes.map((n) => n.privateIp)).toEqual(["10.0.1.10", "10.0.1.11", "10.0.2.10"]);
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
