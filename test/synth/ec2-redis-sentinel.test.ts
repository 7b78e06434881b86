import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import { EbsVolume } from "@cdktf/provider-aws/lib/ebs-volume";
import { DataAwsEc2InstanceType } from "@cdktf/provider-aws/lib/data-aws-ec2-instance-type";
import { DataAwsSubnet } from "@cdktf/provider-aws/lib/data-aws-subnet";
import { Ec2InstanceState } from "@cdktf/provider-aws/lib/ec2-instance-state";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { NetworkInterface } from "@cdktf/provider-aws/lib/network-interface";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { VolumeAttachment } from "@cdktf/provider-aws/lib/volume-attachment";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Testing, TerraformOutput, TerraformStack } from "cdktf";
import { Ec2RedisSentinel, SESSION_MANAGER_ACTIONS, type Ec2RedisSentinelProps } from "../../constructs/ec2-redis-sentinel";
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
    // A new image, spec, type or key reaches a node when it is replaced, never every node at once.
    lifecycle: { ignore_changes: ["ami", "user_data_base64", "instance_type", "root_block_device[0].kms_key_id"] },
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
  expect(text).toHaveDataSourceWithProperties(DataAwsAmi, {
    owners: ["136693071363"],
    most_recent: true,
    filter: expect.arrayContaining([{ name: "name", values: ["debian-12-amd64-*"] }, { name: "architecture", values: ["x86_64"] }]),
  });
});

test("the image follows the instance type's architecture, checked against AWS's description of the type at plan", () => {
  const arm = synth({ ...props, instanceType: "m7g.large" });
  expect(arm.text).toHaveDataSourceWithProperties(DataAwsAmi, {
    filter: expect.arrayContaining([{ name: "name", values: ["debian-12-arm64-*"] }, { name: "architecture", values: ["arm64"] }]),
  });
  expect(arm.text).toHaveResourceWithProperties(Instance, { instance_type: "m7g.large" });
  const [described] = Object.values(arm.json.data.aws_ec2_instance_type) as any[];
  expect(described.instance_type).toBe("m7g.large");
  expect(described.lifecycle.postcondition).toEqual([
    {
      condition: '${contains(self.supported_architectures, "arm64")}',
      error_message: "instanceType m7g.large does not run arm64, the architecture of the image its family was given: give amiId, or choose another type",
    },
    {
      condition: '${self.hypervisor != "xen"}',
      error_message: "instanceType m7g.large runs on Xen, where the data volume is not /dev/sdf: choose a Nitro type, such as t3.small or m6i.large",
    },
  ]);
  // With an image of your own, only the hypervisor is checked.
  const own = synth({ ...props, amiId: "ami-0123456789abcdef0" });
  expect(own.json.data.aws_ami).toBeUndefined();
  expect(text).toHaveDataSourceWithProperties(DataAwsEc2InstanceType, { instance_type: "t3.small" });
  expect((Object.values(own.json.data.aws_ec2_instance_type)[0] as any).lifecycle.postcondition).toHaveLength(1);
});

test("each node has an encrypted data volume in its subnet's zone, attached as /dev/sdf", () => {
  const subnets = json.data.aws_subnet as Record<string, any>;
  expect(Object.values(subnets).map((s) => s.id)).toEqual(["subnet-a", "subnet-b", "subnet-c"]);
  for (const id of Object.keys(subnets)) {
    expect(text).toHaveResourceWithProperties(EbsVolume, {
      availability_zone: `\${data.aws_subnet.${id}.availability_zone}`,
      encrypted: true,
      type: "gp3",
    });
  }
  expect(resources("aws_volume_attachment")).toHaveLength(3);
  expect(text).toHaveResourceWithProperties(VolumeAttachment, { device_name: "/dev/sdf", stop_instance_before_detaching: true });
});

test("each subnet is checked at plan against the zone, VPC and CIDR of the placement", () => {
  expect(text).toHaveDataSourceWithProperties(DataAwsSubnet, {
    id: "subnet-a",
    lifecycle: {
      postcondition: [
        {
          condition: '${self.availability_zone == "eu-west-1a"}',
          error_message: "nodes[0].availabilityZone is eu-west-1a, but subnet subnet-a is in another zone: give the subnet's zone",
        },
        { condition: '${self.vpc_id == "vpc-0123456789abcdef0"}', error_message: "subnet subnet-a of nodes[0] is not in vpcId vpc-0123456789abcdef0" },
        {
          condition: '${self.cidr_block == "10.20.1.0/24"}',
          error_message: "nodes[0].subnetCidr is 10.20.1.0/24, but subnet subnet-a has another CIDR: give the subnet's CIDR",
        },
      ],
    },
  });
  // A node given by address alone has no CIDR to check.
  const given = synth({ ...props, nodes: [props.nodes[0], props.nodes[1], { subnetId: "subnet-c", availabilityZone: "eu-west-1c", privateIp: "10.20.3.77" }] });
  const third = Object.values(given.json.data.aws_subnet as Record<string, any>).find((s) => s.id === "subnet-c");
  expect(third.lifecycle.postcondition.map((c: { condition: string }) => c.condition)).toEqual([
    '${self.availability_zone == "eu-west-1c"}',
    '${self.vpc_id == "vpc-0123456789abcdef0"}',
  ]);
});

test("data is kept by default: the volumes carry prevent_destroy and a final snapshot, and ignore a new KMS key", () => {
  for (const volume of resources<Record<string, any>>("aws_ebs_volume")) {
    expect(volume.final_snapshot).toBe(true);
    expect(volume.lifecycle).toEqual({ prevent_destroy: true, ignore_changes: ["kms_key_id"] });
  }
  const destroyable = synth({ ...props, removalPolicy: "destroy" });
  for (const volume of Object.values(destroyable.json.resource.aws_ebs_volume) as any[]) {
    expect(volume.final_snapshot).toBe(true);
    expect(volume.lifecycle).toEqual({ prevent_destroy: false, ignore_changes: ["kms_key_id"] });
  }
});

test("an instance the volume detachment stopped is started again once the new attachment exists", () => {
  const attachments = Object.keys(json.resource.aws_volume_attachment);
  const instances = Object.keys(json.resource.aws_instance);
  const states = Object.values(json.resource.aws_ec2_instance_state) as any[];
  expect(states).toHaveLength(3);
  states.forEach((state, i) => {
    expect(state).toMatchObject({
      instance_id: `\${aws_instance.${instances[i]}.id}`,
      state: "running",
      depends_on: [`aws_volume_attachment.${attachments[i]}`],
      lifecycle: { replace_triggered_by: [`aws_volume_attachment.${attachments[i]}`] },
    });
  });
  expect(text).toHaveResourceWithProperties(Ec2InstanceState, { state: "running" });
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
  // No managed policy: AmazonSSMManagedInstanceCore would let a node read every parameter of the account.
  expect(json.resource.aws_iam_role_policy_attachment).toBeUndefined();
  expect(text).not.toContain("AmazonSSMManagedInstanceCore");
});

test("Session Manager: the agent's five actions and nothing else, or nothing with sessionManager: false", () => {
  const documents = Object.values(json.data.aws_iam_policy_document) as any[];
  const session = documents.filter((d) => d.statement.some((st: any) => st.actions.includes("ssmmessages:OpenDataChannel")));
  expect(session).toHaveLength(1);
  expect(session[0].statement).toEqual([{ actions: [...SESSION_MANAGER_ACTIONS], resources: ["*"] }]);
  expect(SESSION_MANAGER_ACTIONS.filter((a) => a.startsWith("ssm:"))).toEqual(["ssm:UpdateInstanceInformation"]);
  // Every action on "*" in any statement of the nodes' role is one of those five.
  for (const document of documents) {
    for (const statement of document.statement) {
      if (statement.resources?.includes("*")) expect(SESSION_MANAGER_ACTIONS).toEqual(expect.arrayContaining(statement.actions));
    }
  }
  // The agent is installed at boot, for the instance type's architecture; with sessionManager: false it is not.
  const userData = (j: any) => Object.values(j.resource.aws_instance).map((i: any) => textOfBase64GzipExpression(i.user_data_base64)!);
  for (const text of userData(json)) expect(text).toContain("/latest/debian_amd64/amazon-ssm-agent.deb");
  for (const text of userData(synth({ ...props, instanceType: "m7g.large" }).json)) expect(text).toContain("/latest/debian_arm64/amazon-ssm-agent.deb");
  const none = synth({ ...props, sessionManager: false });
  for (const text of userData(none.json)) expect(text).not.toContain("ssm-agent");
  expect(JSON.stringify(none.json.data.aws_iam_policy_document)).not.toContain("ssmmessages");
  expect(Object.keys(none.json.resource.aws_iam_role_policy)).toHaveLength(1);
  expect(none.stack).toBeDefined();
  expect(text).toHaveResourceWithProperties(IamRolePolicy, { policy: `\${data.aws_iam_policy_document.${Object.keys(json.data.aws_iam_policy_document).find((k) => json.data.aws_iam_policy_document[k] === session[0])}.json}` });
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
  {
    // The nodes' role, for the key policy of a customer managed key.
    const stack = new TerraformStack(Testing.app(), "role");
    const c = new Ec2RedisSentinel(stack, "redis", props);
    new TerraformOutput(stack, "node_role_arn", { value: c.nodeRoleArn });
    const out = JSON.parse(Testing.synth(stack));
    const roles = Object.keys(out.resource.aws_iam_role);
    expect(roles).toHaveLength(1);
    expect(out.output.node_role_arn.value).toBe(`\${aws_iam_role.${roles[0]}.arn}`);
  }
  expect(cluster.sentinelEndpoints).toEqual(["10.20.1.10:26379", "10.20.2.10:26379", "10.20.3.77:26379"]);
  expect(cluster.masterName).toBe("spoke-redis");
  expect(cluster.passwordParameterNames).toEqual({
    "app-password": "/redis-sentinel/test/app-password",
    "admin-password": "/redis-sentinel/test/admin-password",
    "replication-password": "/redis-sentinel/test/replication-password",
    "sentinel-password": "/redis-sentinel/test/sentinel-password",
  });
  expect(cluster.sentinelUrl).toBe(
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
  expect(c.sentinelUrl).toMatch(/^rediss:\/\/spoke-redis@/);
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

test("with a customer managed key, the nodes may decrypt with it only through SSM, in the regions of their parameters", () => {
  const key = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-0000-1111-2222-333344445555";
  const statements = (j: any) => Object.values(j.data.aws_iam_policy_document).flatMap((d: any) => d.statement) as any[];
  const decrypt = (j: any) => statements(j).filter((st) => st.actions.includes("kms:Decrypt"));
  const { json: j } = synth({ ...props, kmsKeyArn: key });
  expect(decrypt(j)).toEqual([
    {
      actions: ["kms:Decrypt"],
      resources: [key],
      condition: [{ test: "StringEquals", variable: "kms:ViaService", values: ["ssm.eu-west-1.amazonaws.com"] }],
    },
  ]);
  const tls = { enabled: true, certificates: { source: "ssm-parameters", path: "/redis-sentinel/test/tls", region: "eu-central-1" } } as const;
  const { json: t } = synth({ ...props, kmsKeyArn: key, spec: { ...props.spec, tls } });
  expect(decrypt(t)[0].condition[0].values).toEqual(["ssm.eu-west-1.amazonaws.com", "ssm.eu-central-1.amazonaws.com"]);
  // Without a key of yours, the AWS managed key aws/ssm decrypts for SSM: the role holds no kms action.
  expect(decrypt(json)).toEqual([]);
});
