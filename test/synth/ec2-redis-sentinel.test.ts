import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import { EbsVolume } from "@cdktf/provider-aws/lib/ebs-volume";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { NetworkInterface } from "@cdktf/provider-aws/lib/network-interface";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { VolumeAttachment } from "@cdktf/provider-aws/lib/volume-attachment";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Testing, TerraformStack } from "cdktf";
import { Ec2RedisSentinel, type Ec2RedisSentinelProps } from "../../constructs/ec2-redis-sentinel";
import { textOfBase64GzipExpression } from "../../src/render";
import { EC2_PLACEMENT } from "./fixtures";

const props: Ec2RedisSentinelProps = {
  ...EC2_PLACEMENT,
  nodes: [EC2_PLACEMENT.nodes[0], EC2_PLACEMENT.nodes[1], { ...EC2_PLACEMENT.nodes[2], privateIp: "10.20.3.77" }],
  clientCidrs: ["10.20.100.0/24"],
  clientSecurityGroupIds: ["sg-0123456789abcdef0"],
  spec: { topology: { masterName: "spoke-redis" } },
};

function synth(p: Ec2RedisSentinelProps = props) {
  const stack = new TerraformStack(Testing.app(), "test");
  const cluster = new Ec2RedisSentinel(stack, "redis", p);
  const text = Testing.synth(stack);
  return { stack, cluster, text, json: JSON.parse(text) };
}

const { cluster, text, json } = synth();
const resources = <T = Record<string, unknown>>(type: string): T[] => Object.values(json.resource[type] ?? {}) as T[];

test("each node has a network interface with its fixed private address, derived or given", () => {
  expect(cluster.placement.nodes.map((n) => n.privateIp)).toEqual(["10.20.1.10", "10.20.2.10", "10.20.3.77"]);
  for (const [subnetId, ip] of [["subnet-a", "10.20.1.10"], ["subnet-b", "10.20.2.10"], ["subnet-c", "10.20.3.77"]]) {
    expect(text).toHaveResourceWithProperties(NetworkInterface, { subnet_id: subnetId, private_ips: [ip] });
  }
});

test("instances: IMDSv2 only, encrypted root volume, no public address, no SSH key, Debian 12 by default", () => {
  expect(resources("aws_instance")).toHaveLength(3);
  expect(text).toHaveResourceWithProperties(Instance, {
    metadata_options: { http_endpoint: "enabled", http_tokens: "required", http_put_response_hop_limit: 1 },
    root_block_device: { encrypted: true, volume_type: "gp3", volume_size: 8 },
    lifecycle: { ignore_changes: ["ami", "user_data_base64"] },
  });
  const parameters = Object.keys(json.resource.aws_ssm_parameter);
  const [policy] = Object.keys(json.resource.aws_iam_role_policy);
  for (const instance of resources<Record<string, unknown>>("aws_instance")) {
    // The first boot reads the passwords: the parameters and the permission must exist first.
    expect((instance.depends_on as string[]).sort()).toEqual(
      [...parameters.map((p) => `aws_ssm_parameter.${p}`), `aws_iam_role_policy.${policy}`].sort(),
    );
    expect(instance.key_name).toBeUndefined();
    expect(instance.associate_public_ip_address).toBeUndefined(); // the interface is in a private subnet, given
    expect(instance.primary_network_interface).toBeDefined();
  }
  expect(text).toHaveDataSourceWithProperties(DataAwsAmi, { owners: ["136693071363"], most_recent: true });
});

test("each node has an encrypted data volume in its zone, attached as /dev/sdf", () => {
  for (const zone of ["eu-west-1a", "eu-west-1b", "eu-west-1c"]) {
    expect(text).toHaveResourceWithProperties(EbsVolume, { availability_zone: zone, encrypted: true, type: "gp3" });
  }
  expect(resources("aws_volume_attachment")).toHaveLength(3);
  expect(text).toHaveResourceWithProperties(VolumeAttachment, { device_name: "/dev/sdf" });
});

test("each password is generated into an SSM SecureString; the role may read only those parameters", () => {
  for (const key of ["app", "admin", "replication", "sentinel"]) {
    expect(text).toHaveResourceWithProperties(SsmParameter, {
      name: `/redis-sentinel/test/${key}-password`,
      type: "SecureString",
      lifecycle: { ignore_changes: ["value"] },
    });
  }
  const parameters = Object.keys(json.resource.aws_ssm_parameter);
  const [document] = Object.values(json.data.aws_iam_policy_document).filter(
    (d: any) => d.statement[0].actions[0] === "ssm:GetParameter",
  ) as any[];
  expect(document.statement).toEqual([
    { actions: ["ssm:GetParameter"], resources: expect.arrayContaining(parameters.map((p) => `\${aws_ssm_parameter.${p}.arn}`)) },
  ]);
  expect(document.statement[0].resources).toHaveLength(4);
  expect(text).toHaveResourceWithProperties(IamRolePolicyAttachment, {
    policy_arn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
  });
});

test("one ingress rule per (peer, port): the nodes, the client CIDRs and groups; never the whole internet", () => {
  const rules = resources<Record<string, unknown>>("aws_vpc_security_group_ingress_rule");
  const peers = rules.map((r) => `${r.cidr_ipv4 ?? r.referenced_security_group_id}:${r.from_port}`).sort();
  expect(peers).toEqual(
    ["10.20.1.10/32", "10.20.2.10/32", "10.20.3.77/32", "10.20.100.0/24", "sg-0123456789abcdef0"]
      .flatMap((p) => [`${p}:26379`, `${p}:6379`])
      .sort(),
  );
  expect(text).toHaveResourceWithProperties(VpcSecurityGroupIngressRule, { cidr_ipv4: "10.20.100.0/24", from_port: 6379, to_port: 6379, ip_protocol: "tcp" });
  // Deterministic construct ids, such as from-10.20.100.0_24-6379.
  const ids = cluster.node.children.map((c) => c.node.id);
  expect(ids).toContain("from-10.20.100.0_24-6379");
  expect(ids).toContain("from-sg-0123456789abcdef0-26379");
  expect(JSON.stringify(json.resource.aws_security_group)).not.toMatch(/"ingress"|"egress"/); // no inline rules
  const egress = resources<Record<string, unknown>>("aws_vpc_security_group_egress_rule");
  expect(egress.filter((r) => r.cidr_ipv4 === "0.0.0.0/0").map((r) => r.from_port).sort()).toEqual([443, 80]);
});

test("allowFrom opens both ports to one more peer, and refuses the whole internet", () => {
  const { cluster: c, stack } = synth();
  c.allowFrom({ cidr: "10.30.0.0/16" });
  const after = Testing.synth(stack);
  expect(after).toHaveResourceWithProperties(VpcSecurityGroupIngressRule, { cidr_ipv4: "10.30.0.0/16", from_port: 26379 });
  expect(after).toHaveResourceWithProperties(VpcSecurityGroupIngressRule, { cidr_ipv4: "10.30.0.0/16", from_port: 6379 });
  expect(() => c.allowFrom({ cidr: "0.0.0.0/0" })).toThrow(
    'allowFrom.cidr = "0.0.0.0/0": opens Redis and Sentinel to every address on the internet',
  );
});

test("attributes for clients", () => {
  expect(cluster.sentinelEndpoints).toEqual(["10.20.1.10:26379", "10.20.2.10:26379", "10.20.3.77:26379"]);
  expect(cluster.masterName).toBe("spoke-redis");
  expect(cluster.passwordParameterNames).toEqual({
    "app-password": "/redis-sentinel/test/app-password",
    "admin-password": "/redis-sentinel/test/admin-password",
    "replication-password": "/redis-sentinel/test/replication-password",
    "sentinel-password": "/redis-sentinel/test/sentinel-password",
  });
  expect(cluster.spokeRedisUrl).toBe(
    "redis://spoke-redis@10.20.1.10:26379,10.20.2.10:26379,10.20.3.77:26379/master/spoke-redis",
  );
});

test("no secret in the synthesized JSON: each parameter's value is a reference to a generated password", () => {
  const parameters = Object.values(json.resource.aws_ssm_parameter as Record<string, { name: string; value: string }>);
  expect(parameters.map((p) => p.name).sort()).toEqual([
    "/redis-sentinel/test/admin-password",
    "/redis-sentinel/test/app-password",
    "/redis-sentinel/test/replication-password",
    "/redis-sentinel/test/sentinel-password",
  ]);
  for (const { value } of parameters) expect(value).toMatch(/^\$\{data\.aws_secretsmanager_random_password\.[\w-]+\.random_password\}$/);
  expect(text.match(/random_password\}/g)).toHaveLength(4);
  for (const instance of resources<{ user_data_base64: string }>("aws_instance")) {
    const userData = textOfBase64GzipExpression(instance.user_data_base64)!;
    expect(userData).not.toMatch(/^\s*(requirepass|masterauth|sentinel auth-pass|sentinel sentinel-pass) "/m);
    expect(userData).toContain('--name "/redis-sentinel/test/$1" --with-decryption');
  }
});

test("bad props fail before any resource, with every problem and its path", () => {
  const stack = new TerraformStack(Testing.app(), "bad");
  expect(
    () =>
      new Ec2RedisSentinel(stack, "redis", {
        ...props,
        nodes: [props.nodes[0], { ...props.nodes[1], availabilityZone: "eu-west-1a" }],
        clientCidrs: ["0.0.0.0/0"],
        spec: { topology: { nodeCount: 2 }, sentinel: { quorum: 1 } },
      }),
  ).toThrow(
    "Invalid Redis Sentinel spec (2 problems):\n" +
      "  - spec.topology.nodeCount = 2: a Sentinel cluster needs at least 3 nodes so that a majority survives one failure. Use 3, 5 or 7\n" +
      '  - clientCidrs[0] = "0.0.0.0/0": opens Redis and Sentinel to every address on the internet. Name the CIDRs of the clients, such as the application subnets',
  );
  expect(stack.node.children).toEqual([]);
});

test("TLS: the nodes may read the certificate parameters, fetch them at boot, listen on TLS only; clients are told rediss://", () => {
  const tls = {
    enabled: true,
    certificates: { source: "ssm-parameters", path: "/redis-sentinel/test/tls", region: "eu-west-1" },
    plaintextPort: 7379,
  } as const;
  const { cluster: c, json: j, text: t } = synth({ ...props, spec: { ...props.spec, tls } });
  expect(c.spokeRedisUrl).toMatch(/^rediss:\/\/spoke-redis@/);
  const [document] = Object.values(j.data.aws_iam_policy_document).filter(
    (d: any) => d.statement[0].actions[0] === "ssm:GetParameter",
  ) as any[];
  const account = `\${data.aws_caller_identity.${Object.keys(j.data.aws_caller_identity)[0]}.account_id}`;
  const partition = `\${data.aws_partition.${Object.keys(j.data.aws_partition)[0]}.partition}`;
  expect(document.statement[0].resources).toEqual(
    expect.arrayContaining(
      ["tls.crt", "tls.key", "ca.crt"].map((key) => `arn:${partition}:ssm:eu-west-1:${account}:parameter/redis-sentinel/test/tls/${key}`),
    ),
  );
  const userData = textOfBase64GzipExpression((Object.values(j.resource.aws_instance)[0] as any).user_data_base64)!;
  expect(userData).toContain('--name "/redis-sentinel/test/tls/$1" --with-decryption');
  expect(userData).toMatch(/^ +port 7379\n +tls-port 6379\n +tls-replication yes$/m);
  // The plain-text port, kept open while clients move, is opened to the same peers.
  expect(t).toHaveResourceWithProperties(VpcSecurityGroupIngressRule, { cidr_ipv4: "10.20.100.0/24", from_port: 7379 });
});
