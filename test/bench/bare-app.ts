// The benchmark's yardstick: a cdktf app built straight from the provider classes (deep imports), with the same
// stacks, resource types and counts as the synthesized example stacks, and none of our constructs or rendering.
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import { DataAwsEc2InstanceType } from "@cdktf/provider-aws/lib/data-aws-ec2-instance-type";
import { DataAwsSubnet } from "@cdktf/provider-aws/lib/data-aws-subnet";
import { Ec2InstanceState } from "@cdktf/provider-aws/lib/ec2-instance-state";
import { DlmLifecyclePolicy } from "@cdktf/provider-aws/lib/dlm-lifecycle-policy";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { DataAwsSecretsmanagerRandomPassword } from "@cdktf/provider-aws/lib/data-aws-secretsmanager-random-password";
import { EbsVolume } from "@cdktf/provider-aws/lib/ebs-volume";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { NetworkInterface } from "@cdktf/provider-aws/lib/network-interface";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { VolumeAttachment } from "@cdktf/provider-aws/lib/volume-attachment";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import { NetworkPolicyV1 } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { StatefulSetV1 } from "@cdktf/provider-kubernetes/lib/stateful-set-v1";
import { App, TerraformStack, type TerraformDataSource, type TerraformResource } from "cdktf";
import * as fs from "node:fs";
import * as path from "node:path";

/** What a synthesized stack holds, by Terraform type: `aws_instance` for resources, `data.aws_ami` for data sources. */
export interface StackCounts {
  readonly name: string;
  readonly providers: readonly string[];
  readonly counts: Readonly<Record<string, number>>;
}

/** Counts the providers, resources and data sources of every stack cdktf synthesized into `outdir`. */
export function countSynthesized(outdir: string): StackCounts[] {
  const stacks = path.join(outdir, "stacks");
  return fs.readdirSync(stacks).sort().map((name) => {
    const json = JSON.parse(fs.readFileSync(path.join(stacks, name, "cdk.tf.json"), "utf8"));
    const counts: Record<string, number> = {};
    for (const [type, byId] of Object.entries<object>(json.resource ?? {})) counts[type] = Object.keys(byId).length;
    for (const [type, byId] of Object.entries<object>(json.data ?? {})) counts[`data.${type}`] = Object.keys(byId).length;
    return { name, providers: Object.keys(json.provider ?? {}), counts };
  });
}

/** The number of resources and data sources in `stacks`. */
export const totalCount = (stacks: readonly StackCounts[]) =>
  stacks.reduce((sum, s) => sum + Object.values(s.counts).reduce((a, b) => a + b, 0), 0);

type Made = TerraformResource | TerraformDataSource;
/** What earlier makers made in this stack, by Terraform type, so that later ones reference them as the real stacks do. */
type Earlier = (type: string, i: number) => Made | undefined;
type Maker = (stack: TerraformStack, id: string, i: number, earlier: Earlier) => Made;

const idOf = (made: Made | undefined, fallback: string): string => (made ? (made as Instance).id : fallback);
const labels = { "app.kubernetes.io/name": "redis" };

/** One maker per Terraform type, in dependency order; plain literal props, as a hand-written stack would have. */
const MAKERS: Readonly<Record<string, Maker>> = {
  "data.aws_ami": (s, id) =>
    new DataAwsAmi(s, id, { mostRecent: true, owners: ["136693071363"], filter: [{ name: "name", values: ["debian-12-amd64-*"] }] }),
  "data.aws_ec2_instance_type": (s, id) => new DataAwsEc2InstanceType(s, id, { instanceType: "t3.small" }),
  "data.aws_subnet": (s, id, i) => new DataAwsSubnet(s, id, { id: `subnet-0aaaaaaaaaaaaaaa${i}` }),
  "data.aws_iam_policy_document": (s, id) =>
    new DataAwsIamPolicyDocument(s, id, {
      statement: [{ actions: ["ssm:GetParameter"], resources: ["arn:aws:ssm:eu-west-1:123456789012:parameter/redis/*"] }],
    }),
  "data.aws_secretsmanager_random_password": (s, id) =>
    new DataAwsSecretsmanagerRandomPassword(s, id, { passwordLength: 32, excludePunctuation: true }),
  aws_iam_role: (s, id, _, earlier) =>
    new IamRole(s, id, { name: id, assumeRolePolicy: (earlier("data.aws_iam_policy_document", 0) as DataAwsIamPolicyDocument)?.json ?? "{}" }),
  aws_iam_role_policy: (s, id, i, earlier) =>
    new IamRolePolicy(s, id, {
      role: idOf(earlier("aws_iam_role", 0), "role"),
      policy: (earlier("data.aws_iam_policy_document", i + 1) as DataAwsIamPolicyDocument)?.json ?? "{}",
    }),
  aws_iam_role_policy_attachment: (s, id, _, earlier) =>
    new IamRolePolicyAttachment(s, id, {
      role: idOf(earlier("aws_iam_role", 0), "role"),
      policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    }),
  aws_iam_instance_profile: (s, id, _, earlier) => new IamInstanceProfile(s, id, { name: id, role: idOf(earlier("aws_iam_role", 0), "role") }),
  aws_ssm_parameter: (s, id, i, earlier) =>
    new SsmParameter(s, id, {
      name: `/redis/${id}`,
      type: "SecureString",
      value: (earlier("data.aws_secretsmanager_random_password", i) as DataAwsSecretsmanagerRandomPassword)?.randomPassword ?? "secret",
    }),
  aws_security_group: (s, id) => new SecurityGroup(s, id, { name: id, vpcId: "vpc-0123456789abcdef0" }),
  aws_vpc_security_group_ingress_rule: (s, id, i, earlier) =>
    new VpcSecurityGroupIngressRule(s, id, {
      securityGroupId: idOf(earlier("aws_security_group", 0), "sg"),
      ipProtocol: "tcp",
      fromPort: 6379 + (i % 2) * 20000,
      toPort: 6379 + (i % 2) * 20000,
      cidrIpv4: `10.0.${i}.0/24`,
    }),
  aws_vpc_security_group_egress_rule: (s, id, i, earlier) =>
    new VpcSecurityGroupEgressRule(s, id, {
      securityGroupId: idOf(earlier("aws_security_group", 0), "sg"),
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: `10.1.${i}.0/24`,
    }),
  aws_network_interface: (s, id, i, earlier) =>
    new NetworkInterface(s, id, {
      subnetId: `subnet-${i}`,
      privateIps: [`10.0.${i}.10`],
      securityGroups: [idOf(earlier("aws_security_group", 0), "sg")],
    }),
  aws_ebs_volume: (s, id, i) => new EbsVolume(s, id, { availabilityZone: `eu-west-1${"abc"[i % 3]}`, size: 10, type: "gp3", encrypted: true }),
  aws_instance: (s, id, i, earlier) =>
    new Instance(s, id, {
      ami: idOf(earlier("data.aws_ami", 0), "ami"),
      instanceType: "t3.micro",
      iamInstanceProfile: (earlier("aws_iam_instance_profile", 0) as IamInstanceProfile)?.name,
      networkInterface: [{ deviceIndex: 0, networkInterfaceId: idOf(earlier("aws_network_interface", i), "eni") }],
      userData: "#cloud-config\n",
      metadataOptions: { httpTokens: "required" },
      tags: { Name: id },
    }),
  aws_volume_attachment: (s, id, i, earlier) =>
    new VolumeAttachment(s, id, {
      deviceName: "/dev/sdf",
      instanceId: idOf(earlier("aws_instance", i), "i"),
      volumeId: idOf(earlier("aws_ebs_volume", i), "vol"),
    }),
  aws_ec2_instance_state: (s, id, i, earlier) =>
    new Ec2InstanceState(s, id, { instanceId: idOf(earlier("aws_instance", i), "i"), state: "running" }),
  aws_cloudwatch_metric_alarm: (s, id, i, earlier) =>
    new CloudwatchMetricAlarm(s, id, {
      alarmName: id,
      namespace: "AWS/EC2",
      metricName: "StatusCheckFailed",
      statistic: "Maximum",
      period: 60,
      evaluationPeriods: 2,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      dimensions: { InstanceId: idOf(earlier("aws_instance", i), "i") },
    }),
  aws_s3_bucket: (s, id) => new S3Bucket(s, id, { bucket: id.replace(/_/g, "-") }),
  aws_s3_bucket_versioning: (s, id, i, earlier) =>
    new S3BucketVersioningA(s, id, { bucket: idOf(earlier("aws_s3_bucket", i), "bucket"), versioningConfiguration: { status: "Enabled" } }),
  aws_s3_bucket_server_side_encryption_configuration: (s, id, i, earlier) =>
    new S3BucketServerSideEncryptionConfigurationA(s, id, {
      bucket: idOf(earlier("aws_s3_bucket", i), "bucket"),
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    }),
  aws_s3_bucket_public_access_block: (s, id, i, earlier) =>
    new S3BucketPublicAccessBlock(s, id, {
      bucket: idOf(earlier("aws_s3_bucket", i), "bucket"),
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }),
  aws_s3_bucket_lifecycle_configuration: (s, id, i, earlier) =>
    new S3BucketLifecycleConfiguration(s, id, {
      bucket: idOf(earlier("aws_s3_bucket", i), "bucket"),
      rule: [{ id: "expire", status: "Enabled", expiration: [{ days: 14 }] }],
    }),
  aws_dlm_lifecycle_policy: (s, id, _, earlier) =>
    new DlmLifecyclePolicy(s, id, {
      description: id,
      executionRoleArn: (earlier("aws_iam_role", 0) as IamRole)?.arn ?? "arn:aws:iam::123456789012:role/dlm",
      policyDetails: {
        resourceTypes: ["VOLUME"],
        targetTags: { "redis-sentinel-snapshots": id },
        schedule: [{ name: "daily", createRule: { interval: 24, intervalUnit: "HOURS", times: ["03:00"] }, retainRule: { count: 14 } }],
      },
    }),
  kubernetes_config_map_v1: (s, id) => new ConfigMapV1(s, id, { metadata: { name: id, namespace: "redis" }, data: { "redis.conf": "port 6379\n" } }),
  kubernetes_service_v1: (s, id) =>
    new ServiceV1(s, id, { metadata: { name: id, namespace: "redis" }, spec: { selector: labels, port: [{ name: "redis", port: 6379 }] } }),
  kubernetes_pod_disruption_budget_v1: (s, id) =>
    new PodDisruptionBudgetV1(s, id, { metadata: { name: id, namespace: "redis" }, spec: { maxUnavailable: "1", selector: { matchLabels: labels } } }),
  kubernetes_network_policy_v1: (s, id) =>
    new NetworkPolicyV1(s, id, {
      metadata: { name: id, namespace: "redis" },
      spec: { podSelector: { matchLabels: labels }, policyTypes: ["Ingress"], ingress: [{ ports: [{ port: "6379", protocol: "TCP" }] }] },
    }),
  kubernetes_stateful_set_v1: (s, id) =>
    new StatefulSetV1(s, id, {
      metadata: { name: id, namespace: "redis" },
      spec: {
        serviceName: id,
        replicas: "3",
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { container: [{ name: "redis", image: "redis:7", port: [{ containerPort: 6379 }] }] } },
      },
    }),
};

/** Adds one stack per entry of `stacks` to `app`, each with its provider and the same resources by type and count. */
export function buildBareApp(stacks: readonly StackCounts[], app: App = new App()): App {
  for (const { name, providers, counts } of stacks) {
    const missing = Object.keys(counts).filter((type) => !MAKERS[type]);
    if (missing.length > 0) throw new Error(`the bare app cannot make ${missing.join(", ")}: add a maker to MAKERS in test/bench/bare-app.ts`);
    const stack = new TerraformStack(app, name);
    if (providers.includes("aws")) new AwsProvider(stack, "aws", { region: "eu-west-1" });
    if (providers.includes("kubernetes")) new KubernetesProvider(stack, "kubernetes", { configPath: "~/.kube/config" });
    const made = new Map<string, Made[]>();
    const earlier: Earlier = (type, i) => made.get(type)?.[i];
    for (const [type, make] of Object.entries(MAKERS)) {
      const list: Made[] = [];
      for (let i = 0; i < (counts[type] ?? 0); i++) list.push(make(stack, `${type.replace(/^data\./, "data_")}_${i}`, i, earlier));
      made.set(type, list);
    }
  }
  return app;
}
