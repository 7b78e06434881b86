import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsEc2InstanceType } from "@cdktf/provider-aws/lib/data-aws-ec2-instance-type";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { DataAwsSecretsmanagerRandomPassword } from "@cdktf/provider-aws/lib/data-aws-secretsmanager-random-password";
import { DataAwsSubnet } from "@cdktf/provider-aws/lib/data-aws-subnet";
import { DlmLifecyclePolicy } from "@cdktf/provider-aws/lib/dlm-lifecycle-policy";
import { EbsVolume } from "@cdktf/provider-aws/lib/ebs-volume";
import { Ec2InstanceState } from "@cdktf/provider-aws/lib/ec2-instance-state";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { NetworkInterface } from "@cdktf/provider-aws/lib/network-interface";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { VolumeAttachment } from "@cdktf/provider-aws/lib/volume-attachment";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Token } from "cdktf";
import * as ipaddr from "ipaddr.js";
import { Construct } from "constructs";
import {
  base64GzipExpression,
  EXPORTER_PORT,
  renderAlertRules,
  renderSentinelUrl,
  renderCloudConfig,
  VM_NOTIFY_SCRIPTS,
} from "../src/render";
import {
  AWS_REGION,
  SNS_TOPIC_ARN,
  instanceArchitecture,
  ipv4CidrProblem,
  widePeerProblem,
  instanceMemoryBytes,
  DEFAULT_INSTANCE_TYPE,
  maxmemoryProblem,
  withDefaultMaxmemory,
  isObject,
  parseEc2Placement,
  assertProps,
  describeValue,
  nestedPropProblems,
  withoutTokens,
  TOKEN_AT_SYNTH,
  parseSpec,
  prefixProblem,
  CERTIFICATE_KEYS,
  secretKeys,
  SpecError,
  type Ec2Placement,
  type Ec2PlacementInput,
  type RedisSentinelConfig,
  type RedisSentinelSpec,
  type SpecProblem,
} from "../src/spec";

/** Debian's AWS account, publisher of the official Debian images. */
export const DEBIAN_AMI_OWNER = "136693071363";
/** Device name the data volume is attached under; amazon-ec2-utils gives the NVMe device this name too. */
export const DATA_DEVICE = "/dev/sdf";
/** Days an RDB backup in S3, and an EBS snapshot, is kept by default (`backups.retentionDays`). */
export const DEFAULT_BACKUP_RETENTION_DAYS = 14;
/** Tag on the data volumes that the Data Lifecycle Manager policy of `backups` selects them by. */
export const SNAPSHOT_TAG = "redis-sentinel-snapshots";

/** Debian's name for each EC2 architecture, in the names of its images. */
const DEBIAN_ARCHITECTURES = { x86_64: "amd64", arm64: "arm64" } as const;

/**
 * Actions the SSM agent needs for Session Manager, as AWS's Session Manager guide lists them (no
 * `ssm:GetParameter*`, no Run Command).
 */
export const SESSION_MANAGER_ACTIONS = [
  "ssm:UpdateInstanceInformation",
  "ssmmessages:CreateControlChannel",
  "ssmmessages:CreateDataChannel",
  "ssmmessages:OpenControlChannel",
  "ssmmessages:OpenDataChannel",
] as const;

/** A client allowed to reach Redis and Sentinel: a CIDR or a security group. */
export type Ec2Peer = { readonly cidr: string } | { readonly securityGroupId: string };

/** Prometheus metrics of the EC2 nodes (`Ec2RedisSentinelProps.monitoring`). */
export interface Ec2Monitoring {
  /** The Prometheus servers' CIDRs: one ingress rule each to the exporter's port. */
  readonly cidrs: string[];
}

/** CloudWatch alarms of the EC2 nodes (`Ec2RedisSentinelProps.alarms`). */
export interface Ec2Alarms {
  /** Where the alarms send (alarm and OK). @default no actions */
  readonly snsTopicArn?: string;
}

/** Failover events of the EC2 nodes (`Ec2RedisSentinelProps.notifications`). */
export interface Ec2Notifications {
  /** A standard topic, such as `arn:aws:sns:eu-west-1:123456789012:redis-ha`. */
  readonly snsTopicArn: string;
}

/** Backups of the EC2 nodes (`Ec2RedisSentinelProps.backups`). */
export interface Ec2Backups {
  /**
   * An existing bucket to write to (the role may `s3:PutObject` on `<master name>/*` only); its lifecycle is yours.
   * @default a new bucket named `redis-ha-backups-<unique suffix>` by Terraform (its name in the SSM parameter
   * `<parameterPath>/backup-bucket`): versioned, encrypted (SSE-S3), public access blocked, objects expiring after
   * `retentionDays`
   */
  readonly bucketName?: string;
  /** Days to keep the RDB copies (new bucket only) and the EBS snapshots. @default DEFAULT_BACKUP_RETENTION_DAYS (14) */
  readonly retentionDays?: number;
}

export interface Ec2RedisSentinelProps extends Ec2PlacementInput {
  /**
   * The cluster: topology, Sentinel, Redis, ACL and TLS settings. Its passwords are generated and kept in SSM by the
   * construct. With TLS, `spec.tls.certificates` says where the certificate, key and CA are, usually
   * `{ source: "ssm-parameters", path: "/redis-sentinel/prod/tls", region }` holding `tls.crt`, `tls.key` and `ca.crt`
   * as SecureStrings that you create; the nodes' role may read them.
   */
  readonly spec?: Omit<RedisSentinelSpec, "auth">;
  /** AWS region of the stack; the nodes read the password parameters there. */
  readonly region: string;
  /**
   * What `terraform destroy`, or a change that would replace them, does to what holds the data: the data volumes
   * and the backup bucket the construct creates. `"retain"`: they carry `prevent_destroy`, so such a plan fails
   * and nothing is deleted. `"destroy"`: they are deleted, each data volume after a final snapshot, the bucket
   * with every object version in it (`force_destroy`, which must be applied before a destroy).
   * @default "retain"
   */
  readonly removalPolicy?: "retain" | "destroy";
  /**
   * Session Manager access: every node installs AWS's SSM Agent at boot (Debian's images lack it), from AWS's
   * package in the region's bucket over HTTPS (the subnets need a route to S3: a NAT gateway or an S3 gateway
   * endpoint), and the nodes' role gets the agent's Session Manager actions (SESSION_MANAGER_ACTIONS), nothing more.
   * `false`: no agent, no remote access at all.
   * @default true
   */
  readonly sessionManager?: boolean;
  /**
   * SSM path under which the generated passwords are kept, one SecureString per password (such as
   * `<path>/app-password`). @default `/redis-sentinel/<construct id>`
   */
  readonly parameterPath?: string;
  /**
   * Prometheus metrics: Debian's prometheus-redis-exporter on every node, on port 9121, reachable from `cidrs`
   * (one ingress rule per CIDR; 0.0.0.0/0 is refused). It logs in as `admin` (ACL mode) with the password from
   * SSM, kept in a root:prometheus 0640 environment file. Load the construct's `alertRules` into your Prometheus.
   * @default no exporter
   */
  readonly monitoring?: Ec2Monitoring;
  /**
   * A CloudWatch alarm per instance on `StatusCheckFailed` (2 minutes of failed checks), sending to
   * `snsTopicArn` when given (alarm and OK). `true`: the alarms without actions.
   * @default no alarms
   */
  readonly alarms?: Ec2Alarms | true;
  /**
   * Failover events to an SNS topic: the nodes get the rendered notification and client-reconfig scripts under
   * /etc/redis-ha/, sentinel.conf names them, and the role may `sns:Publish` to this topic only. Excludes
   * `spec.sentinel.notificationScript` and `spec.sentinel.clientReconfigScript`.
   * @default no notifications
   */
  readonly notifications?: Ec2Notifications;
  /**
   * Backups: an RDB copy to S3 from every replica each day (a systemd timer; the master skips), under
   * `<master name>/<node address>/`, and daily EBS snapshots of the data volumes by Data Lifecycle Manager.
   * @default no backups
   */
  readonly backups?: Ec2Backups;
}

/**
 * Redis with Sentinel on EC2: one Debian VM per node, each with a fixed private address on its own network
 * interface, an encrypted data volume, and a cloud-config that installs Redis and Sentinel and boots the node from
 * the rendered configs. The password is generated by Terraform into an SSM SecureString that only the nodes' role
 * may read; it is in neither the user data nor the synthesized JSON (the Terraform state holds it).
 */
export class Ec2RedisSentinel extends Construct {
  /** The validated cluster config, every default applied. */
  readonly config: RedisSentinelConfig;
  /** The validated placement, every node with its address. */
  readonly placement: Ec2Placement;
  /** `address:port` of every sentinel. */
  readonly sentinelEndpoints: string[];
  /** Name the sentinels know the master by. */
  readonly masterName: string;
  /** Security group of the nodes. */
  readonly securityGroupId: string;
  /** The SSM parameters holding the passwords, by key (such as `app-password`). */
  readonly passwordParameterNames: Record<string, string>;
  /**
   * The sentinel URL clients find the master by (`redis://<master>@<sentinel>,.../master/<master>`, `rediss://`
   * with TLS): Spoke's SPOKE_REDIS_URL.
   */
  readonly sentinelUrl: string;
  /** The user data of every node, as rendered (for review, and for `redis-ha local`). */
  readonly userData: string[];
  /** Prometheus alerting rules for this cluster (YAML), to load into the Prometheus that scrapes `monitoring`. */
  readonly alertRules: string;
  /** Name of the bucket the backups go to, with `backups`. */
  readonly backupBucketName?: string;
  /**
   * ARN of the nodes' role. With your own `kmsKeyArn`, let the key policy grant `kms:Decrypt` to this role alone
   * (see the README); the role may decrypt with the key only through SSM.
   */
  readonly nodeRoleArn: string;

  private readonly securityGroup: SecurityGroup;
  private readonly ports: number[];
  private unresolvedPeers: number;
  /** Peers with ingress rules already: a peer given twice (a node's own /32 as a client CIDR, allowFrom again) is merged. */
  private readonly admitted: Set<string>;

  /** Value of SNAPSHOT_TAG on this construct's data volumes: unique to its path in the app. */
  private get snapshotTagValue(): string {
    return this.node.path;
  }

  constructor(scope: Construct, id: string, props: Ec2RedisSentinelProps) {
    // Validated before the construct joins the tree: bad props leave nothing behind.
    assertProps(props, 'new Ec2RedisSentinel(scope, "redis", { region: "eu-west-1", vpcId: "vpc-...", nodes: [{ subnetId: "subnet-...", availabilityZone: "eu-west-1a", subnetCidr: "10.0.1.0/24" }, ...] })');
    const parameterPath = props.parameterPath ?? `/redis-sentinel/${id}`;
    const { config, placement } = validate(props, parameterPath);
    super(scope, id);
    this.unresolvedPeers = 0;
    this.admitted = new Set();
    this.config = config;
    this.placement = placement;
    this.masterName = config.topology.masterName;
    this.ports = [config.redis.port, config.sentinel.port];
    if (config.tls.plaintextPort !== undefined) this.ports.push(config.tls.plaintextPort);
    const addresses = placement.nodes.map((n) => n.privateIp);
    this.sentinelEndpoints = addresses.map((a) => `${a}:${config.sentinel.port}`);
    this.alertRules = renderAlertRules(config);
    this.sentinelUrl = renderSentinelUrl({ masterName: this.masterName, sentinels: this.sentinelEndpoints, tls: config.tls.enabled });

    // The passwords: generated by AWS when Terraform plans, kept in SSM. Later plans generate other values, which
    // are ignored: each parameter keeps its first.
    const parameters = secretKeys(config).map((key) => {
      const generated = new DataAwsSecretsmanagerRandomPassword(this, key, { passwordLength: 32, excludePunctuation: true });
      return new SsmParameter(this, `${key}-parameter`, {
        name: `${parameterPath}/${key}`,
        type: "SecureString",
        value: generated.randomPassword,
        keyId: placement.kmsKeyArn,
        description: `${key} of Redis Sentinel cluster ${this.masterName}`,
        lifecycle: { ignoreChanges: ["value"] },
      });
    });
    this.passwordParameterNames = Object.fromEntries(secretKeys(config).map((key) => [key, `${parameterPath}/${key}`]));
    // TLS material the user keeps in SSM: the nodes may read those three parameters too.
    const certificates = config.tls.certificates;
    const certificateArns: string[] = [];
    if (certificates?.source === "ssm-parameters") {
      const partition = new DataAwsPartition(this, "partition").partition;
      const account = new DataAwsCallerIdentity(this, "account").accountId;
      for (const key of Object.values(CERTIFICATE_KEYS)) {
        certificateArns.push(`arn:${partition}:ssm:${certificates.region}:${account}:parameter${certificates.path}/${key}`);
      }
    }

    // The nodes' role: reading its own parameters, and Session Manager instead of SSH. No managed policy: the
    // one Session Manager suggests (AmazonSSMManagedInstanceCore) may read every parameter of the account.
    const role = this.serviceRole({
      ids: { role: "role", assume: "assume-role" },
      namePrefix: "redis-sentinel-",
      service: "ec2.amazonaws.com",
    });
    this.nodeRoleArn = role.arn;
    if (props.sessionManager !== false) {
      new IamRolePolicy(this, "session-manager", {
        role: role.id,
        policy: new DataAwsIamPolicyDocument(this, "session-manager-policy", {
          statement: [{ actions: [...SESSION_MANAGER_ACTIONS], resources: ["*"] }],
        }).json,
      });
    }
    const retain = props.removalPolicy !== "destroy";
    const backups = props.backups && { retentionDays: props.backups.retentionDays ?? DEFAULT_BACKUP_RETENTION_DAYS };
    // A new bucket gets a name Terraform makes unique (bucket names are global); the nodes read it from an SSM
    // parameter when they back up, since the user data is rendered before the name exists.
    const newBucket =
      props.backups && props.backups.bucketName === undefined
        ? new S3Bucket(this, "backup-bucket", {
            bucketPrefix: "redis-ha-backups-",
            ...(retain ? { lifecycle: { preventDestroy: true } } : { forceDestroy: true }),
          })
        : undefined;
    const bucketParameter = newBucket
      ? new SsmParameter(this, "backup-bucket-parameter", {
          name: `${parameterPath}/backup-bucket`,
          type: "String",
          value: newBucket.bucket,
          description: `Backup bucket of Redis Sentinel cluster ${this.masterName}`,
        })
      : undefined;
    this.backupBucketName = props.backups?.bucketName ?? newBucket?.bucket;
    const backupPrefix = `${this.masterName}/`;
    const readPassword = new IamRolePolicy(this, "read-password", {
      role: role.id,
      policy: new DataAwsIamPolicyDocument(this, "read-password-policy", {
        statement: [
          { actions: ["ssm:GetParameter"], resources: [...parameters.map((p) => p.arn), ...certificateArns] },
          // The key decrypts the parameters for the nodes only when SSM asks (never a direct kms:Decrypt).
          ...(placement.kmsKeyArn
            ? [
                {
                  actions: ["kms:Decrypt"],
                  resources: [placement.kmsKeyArn],
                  condition: [
                    {
                      test: "StringEquals",
                      variable: "kms:ViaService",
                      values: [...new Set([props.region, ...(certificates?.source === "ssm-parameters" ? [certificates.region] : [])])].map(
                        (region) => `ssm.${region}.amazonaws.com`,
                      ),
                    },
                  ],
                },
              ]
            : []),
          ...(props.notifications ? [{ actions: ["sns:Publish"], resources: [props.notifications.snsTopicArn] }] : []),
          ...(bucketParameter ? [{ actions: ["ssm:GetParameter"], resources: [bucketParameter.arn] }] : []),
          ...(backups
            ? [
                {
                  actions: ["s3:PutObject"],
                  resources: [`${newBucket ? newBucket.arn : `arn:aws:s3:::${props.backups!.bucketName}`}/${backupPrefix}*`],
                },
              ]
            : []),
        ],
      }).json,
    });
    const profile = new IamInstanceProfile(this, "profile", { namePrefix: "redis-sentinel-", role: role.name });

    // Network: one rule resource per (peer, port), never inline rules.
    this.securityGroup = new SecurityGroup(this, "security-group", {
      namePrefix: "redis-sentinel-",
      description: `Redis Sentinel cluster ${this.masterName}`,
      vpcId: placement.vpcId,
      lifecycle: { createBeforeDestroy: true },
    });
    this.securityGroupId = this.securityGroup.id;
    for (const address of addresses) this.allow({ cidr: `${address}/32` });
    for (const cidr of placement.clientCidrs) this.allow({ cidr });
    for (const securityGroupId of placement.clientSecurityGroupIds) this.allow({ securityGroupId });
    let unresolvedMonitors = 0;
    const monitors = new Set<string>();
    for (const cidr of props.monitoring?.cidrs ?? []) {
      if (!Token.isUnresolved(cidr)) {
        if (monitors.has(cidr)) continue; // given twice: one rule
        monitors.add(cidr);
      }
      const name = Token.isUnresolved(cidr) ? `unresolved-${unresolvedMonitors++}` : cidr.replace(/\//g, "_");
      new VpcSecurityGroupIngressRule(this, `monitoring-from-${name}-${EXPORTER_PORT}`, {
        securityGroupId: this.securityGroup.id,
        ipProtocol: "tcp",
        fromPort: EXPORTER_PORT,
        toPort: EXPORTER_PORT,
        cidrIpv4: cidr,
        description: "Prometheus redis_exporter",
      });
    }
    const egress = (id: string, cidr: string, port: number, description: string) =>
      new VpcSecurityGroupEgressRule(this, id, {
        securityGroupId: this.securityGroup.id,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrIpv4: cidr,
        description,
      });
    egress("to-any-443", "0.0.0.0/0", 443, "HTTPS: SSM, Session Manager, Debian mirrors");
    egress("to-any-80", "0.0.0.0/0", 80, "HTTP: Debian mirrors (signed packages)");
    for (const address of addresses) {
      for (const port of this.ports) egress(`to-${address}_32-${port}`, `${address}/32`, port, "Redis and Sentinel between the nodes");
    }

    // The image's architecture follows the instance type; Terraform checks both against AWS's own description of
    // the type when it plans (the architecture, and a Nitro or bare-metal host: on Xen the volume is not /dev/sdf).
    const architecture = instanceArchitecture(placement.instanceType);
    new DataAwsEc2InstanceType(this, "instance-type", {
      instanceType: placement.instanceType,
      lifecycle: {
        postcondition: [
          ...(placement.amiId
            ? []
            : [
                {
                  condition: `\${contains(self.supported_architectures, "${architecture}")}`,
                  errorMessage: `instanceType ${placement.instanceType} does not run ${architecture}, the architecture of the image its family was given: give amiId, or choose another type`,
                },
              ]),
          {
            condition: `\${self.hypervisor != "xen"}`,
            errorMessage: `instanceType ${placement.instanceType} runs on Xen, where the data volume is not /dev/sdf: choose a Nitro type, such as t3.small or m6i.large`,
          },
        ],
      },
    });
    const image = placement.amiId
      ? placement.amiId
      : new DataAwsAmi(this, "debian", {
          mostRecent: true,
          owners: [DEBIAN_AMI_OWNER],
          filter: [
            { name: "name", values: [`debian-12-${DEBIAN_ARCHITECTURES[architecture]}-*`] },
            { name: "architecture", values: [architecture] },
            { name: "virtualization-type", values: ["hvm"] },
          ],
        }).id;

    this.userData = placement.nodes.map((_, index) =>
      renderCloudConfig(config, { addresses }, index, {
        dataDevice: DATA_DEVICE,
        exporter: props.monitoring !== undefined,
        ssmAgent: props.sessionManager !== false ? { region: props.region, architecture: DEBIAN_ARCHITECTURES[architecture] } : undefined,
        notifications: props.notifications && {
          sns: { topicArn: props.notifications.snsTopicArn, region: topicRegion(props.notifications.snsTopicArn) ?? props.region },
        },
        backup: backups && {
          target: {
            s3: bucketParameter
              ? { bucketParameter: `${parameterPath}/backup-bucket`, region: props.region, prefix: "" }
              : { bucket: props.backups!.bucketName!, region: props.region, prefix: "" },
          },
        },
      }),
    );

    if (backups && newBucket) {
      const bucket = newBucket;
      new S3BucketVersioningA(this, "backup-bucket-versioning", {
        bucket: bucket.id,
        versioningConfiguration: { status: "Enabled" },
      });
      new S3BucketServerSideEncryptionConfigurationA(this, "backup-bucket-encryption", {
        bucket: bucket.id,
        rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
      });
      new S3BucketPublicAccessBlock(this, "backup-bucket-public-access", {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
      new S3BucketLifecycleConfiguration(this, "backup-bucket-lifecycle", {
        bucket: bucket.id,
        rule: [
          {
            id: "expire-backups",
            status: "Enabled",
            filter: [{ prefix: "" }],
            expiration: [{ days: backups.retentionDays }],
            noncurrentVersionExpiration: [{ noncurrentDays: 1 }],
            abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
          },
        ],
      });
    }
    if (backups) {
      // EBS snapshots of the data volumes, selected by a tag only this construct's volumes carry.
      const dlmRole = this.serviceRole({
        ids: { role: "snapshot-role", assume: "snapshot-assume-role" },
        namePrefix: "redis-sentinel-dlm-",
        service: "dlm.amazonaws.com",
        policy: { arn: "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole", attachmentId: "snapshot-role-policy" },
      });
      // Snapshots of volumes encrypted with a customer managed key: DLM creates grants on that key.
      if (placement.kmsKeyArn) {
        new IamRolePolicy(this, "snapshot-role-kms", {
          role: dlmRole.id,
          policy: new DataAwsIamPolicyDocument(this, "snapshot-role-kms-policy", {
            statement: [
              { actions: ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncrypt*"], resources: [placement.kmsKeyArn] },
            ],
          }).json,
        });
      }
      new DlmLifecyclePolicy(this, "snapshots", {
        // The API takes letters, digits, spaces, '_' and '-' only: a master name may hold '.'.
        description: `Daily snapshots of the data volumes of Redis Sentinel cluster ${this.masterName.replace(/[^0-9A-Za-z _-]/g, "-")}`,
        executionRoleArn: dlmRole.arn,
        state: "ENABLED",
        policyDetails: {
          resourceTypes: ["VOLUME"],
          targetTags: { [SNAPSHOT_TAG]: this.snapshotTagValue },
          schedule: [
            {
              name: "daily",
              createRule: { interval: 24, intervalUnit: "HOURS", times: ["03:00"] },
              retainRule: { count: backups.retentionDays },
              copyTags: true,
            },
          ],
        },
      });
    }
    const alarmTopic = props.alarms && props.alarms !== true ? props.alarms.snsTopicArn : undefined;

    placement.nodes.forEach((node, index) => {
      // The subnet as AWS knows it: the data volume is created in its zone, and the placement is checked against
      // it when Terraform plans (the zone the spread check counted, the VPC of the security group, the CIDR the
      // address was derived from).
      const subnet = new DataAwsSubnet(this, `node-${index}-subnet`, {
        id: node.subnetId,
        lifecycle: { postcondition: subnetChecks(index, node, placement.vpcId) },
      });
      const eni = new NetworkInterface(this, `node-${index}-eni`, {
        subnetId: node.subnetId,
        privateIps: [node.privateIp],
        securityGroups: [this.securityGroup.id],
        description: `Redis Sentinel ${this.masterName} node ${index}`,
        tags: { Name: `${this.masterName}-${index}` },
      });
      const instance = new Instance(this, `node-${index}`, {
        ami: image,
        instanceType: placement.instanceType,
        iamInstanceProfile: profile.name,
        primaryNetworkInterface: { networkInterfaceId: eni.id },
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: placement.rootVolumeGiB, kmsKeyId: placement.kmsKeyArn },
        // Gzipped by Terraform (EC2 takes 16 KB), with the text readable in the synthesized JSON.
        userDataBase64: base64GzipExpression(this.userData[index]),
        tags: { Name: `${this.masterName}-${index}` },
        // A new Debian image, a changed spec, instance type or KMS key must not stop or replace every node at once:
        // a node takes them when it is replaced, one at a time, and then joins the current master (see the README).
        lifecycle: { ignoreChanges: ["ami", "user_data_base64", "instance_type", "root_block_device[0].kms_key_id"] },
        // The first boot reads the passwords: the parameters and the permission to read them must exist by then.
        dependsOn: [...parameters, readPassword],
      });
      const volume = new EbsVolume(this, `node-${index}-data`, {
        availabilityZone: subnet.availabilityZone,
        size: placement.dataVolumeGiB,
        type: "gp3",
        encrypted: true,
        kmsKeyId: placement.kmsKeyArn,
        // Deleted only with removalPolicy "destroy", and then after a snapshot. A new KMS key reaches a volume when
        // it is replaced, node by node (see the README): a changed key never replaces every volume at once.
        finalSnapshot: true,
        lifecycle: { preventDestroy: retain, ignoreChanges: ["kms_key_id"] },
        tags: { Name: `${this.masterName}-${index}-data`, ...(backups ? { [SNAPSHOT_TAG]: this.snapshotTagValue } : {}) },
      });
      if (props.alarms) {
        new CloudwatchMetricAlarm(this, `node-${index}-status-check`, {
          // Named after the construct path: two stacks of one account may hold clusters of the same master name.
          alarmName: `${this.node.path.replace(/\//g, "-")}-node-${index}-status-check-failed`,
          alarmDescription: `Redis Sentinel ${this.masterName} node ${index} (${node.privateIp}) fails its EC2 status checks`,
          namespace: "AWS/EC2",
          metricName: "StatusCheckFailed",
          dimensions: { InstanceId: instance.id },
          statistic: "Maximum",
          period: 60,
          evaluationPeriods: 2,
          threshold: 1,
          comparisonOperator: "GreaterThanOrEqualToThreshold",
          // No data: the instance is stopped or gone, which a Redis node should not be.
          treatMissingData: "breaching",
          ...(alarmTopic ? { alarmActions: [alarmTopic], okActions: [alarmTopic] } : {}),
        });
      }
      // Stopping the instance first lets Redis save and the file system unmount cleanly before the volume goes.
      const attachment = new VolumeAttachment(this, `node-${index}-data-attachment`, {
        deviceName: DATA_DEVICE,
        volumeId: volume.id,
        instanceId: instance.id,
        stopInstanceBeforeDetaching: true,
      });
      // ... and an attachment replaced while its instance stays (a replaced volume) leaves the instance stopped:
      // this starts it again once the new attachment exists, and starts a node found stopped at any apply.
      new Ec2InstanceState(this, `node-${index}-running`, {
        instanceId: instance.id,
        state: "running",
        dependsOn: [attachment],
        // A plain address: cdktf writes a construct as "${...}", which Terraform refuses in replace_triggered_by.
        lifecycle: { replaceTriggeredBy: [`${attachment.terraformResourceType}.${attachment.friendlyUniqueId}`] },
      });
    });
  }

  /** A role that an AWS service assumes, with a managed policy attached when `policy` is given. */
  private serviceRole(options: {
    readonly ids: { readonly role: string; readonly assume: string };
    readonly namePrefix: string;
    readonly service: string;
    readonly policy?: { readonly arn: string; readonly attachmentId: string };
  }): IamRole {
    const role = new IamRole(this, options.ids.role, {
      namePrefix: options.namePrefix,
      assumeRolePolicy: new DataAwsIamPolicyDocument(this, options.ids.assume, {
        statement: [{ actions: ["sts:AssumeRole"], principals: [{ type: "Service", identifiers: [options.service] }] }],
      }).json,
    });
    if (options.policy) new IamRolePolicyAttachment(this, options.policy.attachmentId, { role: role.name, policyArn: options.policy.arn });
    return role;
  }

  /** Opens the Redis and Sentinel ports to `peer`: one ingress rule per port. A peer admitted already is left as it is. */
  allowFrom(peer: Ec2Peer): void {
    const given: unknown = peer;
    const cidr: unknown = isObject(given) ? given.cidr : undefined;
    const group: unknown = isObject(given) ? given.securityGroupId : undefined;
    if (typeof cidr !== "string" && typeof group !== "string") {
      throw new SpecError([
        { path: "allowFrom", value: describeValue(peer), message: 'must be { cidr: "10.20.100.0/24" } or { securityGroupId: "sg-0abc1234" }' },
      ]);
    }
    if ("cidr" in peer && !Token.isUnresolved(peer.cidr)) {
      const problem = ipv4CidrProblem(peer.cidr) ?? widePeerProblem(peer.cidr, this.placement.allowPublicPeers);
      if (problem) throw new SpecError([{ path: "allowFrom.cidr", value: JSON.stringify(peer.cidr), message: problem }]);
    }
    this.allow(peer);
  }

  private allow(peer: Ec2Peer): void {
    const source = "cidr" in peer ? peer.cidr : peer.securityGroupId;
    if (!Token.isUnresolved(source)) {
      if (this.admitted.has(source)) return;
      this.admitted.add(source);
    }
    // Deterministic ids, such as from-10.0.10.0_24-6379; a value known only at apply gets a sequence number.
    const name = Token.isUnresolved(source) ? `unresolved-${this.unresolvedPeers++}` : source.replace(/\//g, "_");
    for (const port of this.ports) {
      new VpcSecurityGroupIngressRule(this, `from-${name}-${port}`, {
        securityGroupId: this.securityGroup.id,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        ...("cidr" in peer ? { cidrIpv4: peer.cidr } : { referencedSecurityGroupId: peer.securityGroupId }),
        description: port === this.ports[0] ? "Redis" : port === this.ports[1] ? "Sentinel" : "Redis, plain text",
      });
    }
  }
}

/** The spec and the placement, validated together: one error lists every problem of both, before any resource. */
function validate(props: Ec2RedisSentinelProps, parameterPath: string) {
  // `alarms: true` asks for the alarms with no topic; only an object has keys to check.
  const problems: SpecProblem[] = nestedPropProblems({ ...props, alarms: typeof props.alarms === "boolean" ? undefined : props.alarms }, {
    monitoring: { keys: ["cidrs"], example: '{ cidrs: ["10.20.200.0/24"] }' },
    alarms: { keys: ["snsTopicArn"], example: '{ snsTopicArn: "arn:aws:sns:eu-west-1:123456789012:redis-ha-alarms" }, or true' },
    notifications: { keys: ["snsTopicArn"], example: '{ snsTopicArn: "arn:aws:sns:eu-west-1:123456789012:redis-ha-events" }' },
    backups: { keys: ["bucketName", "retentionDays"], example: "{ retentionDays: 14 }" },
  });
  const monitoringCidrs: unknown = props.monitoring?.cidrs;
  if (monitoringCidrs !== undefined && !Array.isArray(monitoringCidrs)) {
    problems.push({ path: "monitoring.cidrs", value: JSON.stringify(monitoringCidrs), message: 'must be a list of IPv4 CIDRs, such as ["10.20.200.0/24"]' });
  }
  (Array.isArray(monitoringCidrs) ? (monitoringCidrs as string[]) : []).forEach((cidr, i) => {
    const problem = Token.isUnresolved(cidr) ? undefined : ipv4CidrProblem(cidr) ?? widePeerProblem(cidr, props.allowPublicPeers === true);
    if (problem) problems.push({ path: `monitoring.cidrs[${i}]`, value: JSON.stringify(cidr), message: problem });
  });
  const sessionManager: unknown = props.sessionManager;
  if (sessionManager !== undefined && typeof sessionManager !== "boolean") {
    problems.push({ path: "sessionManager", value: JSON.stringify(sessionManager), message: `must be true or false, not a ${typeof sessionManager}` });
  }
  // null, as from JSON, is no spec. Every spec value is rendered into the user data: a Terraform token is refused.
  const literal = withoutTokens(props.spec ?? undefined, (v) => Token.isUnresolved(v));
  problems.push(...literal.problems);
  const givenSpec = (literal.spec ?? undefined) as Ec2RedisSentinelProps["spec"];
  let spec = givenSpec;
  // With no maxmemory given, Redis gets the default capped at 75% of the instance type's memory, where we know it.
  const instanceType = props.instanceType ?? DEFAULT_INSTANCE_TYPE;
  const instanceMemory = typeof instanceType === "string" && !Token.isUnresolved(instanceType) ? instanceMemoryBytes(instanceType) : undefined;
  spec = withDefaultMaxmemory(spec, instanceMemory);
  if (props.notifications) {
    const arn = props.notifications.snsTopicArn;
    if (Token.isUnresolved(arn) || !SNS_TOPIC_ARN.test(arn)) {
      problems.push({
        path: "notifications.snsTopicArn",
        value: JSON.stringify(arn),
        message:
          "must be the ARN of a standard SNS topic, known when the stack is synthesized (it is written into the user data), such as arn:aws:sns:eu-west-1:123456789012:redis-ha-events",
      });
    }
    for (const field of ["notificationScript", "clientReconfigScript"] as const) {
      if (givenSpec?.sentinel?.[field] !== undefined) {
        problems.push({
          path: `spec.sentinel.${field}`,
          value: JSON.stringify(givenSpec!.sentinel![field]),
          message: "is set by the construct with notifications: remove it, or remove notifications",
        });
      }
    }
    spec = {
      ...spec,
      sentinel: {
        ...givenSpec?.sentinel,
        notificationScript: VM_NOTIFY_SCRIPTS.notification,
        clientReconfigScript: VM_NOTIFY_SCRIPTS.clientReconfig,
      },
    };
  }
  const bucketName = props.backups?.bucketName;
  if (bucketName !== undefined && (Token.isUnresolved(bucketName) || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucketName))) {
    problems.push({
      path: "backups.bucketName",
      value: JSON.stringify(bucketName),
      message: "must be an S3 bucket name known when the stack is synthesized (it is written into the user data), such as redis-ha-backups",
    });
  }
  if (props.removalPolicy !== undefined && props.removalPolicy !== "retain" && props.removalPolicy !== "destroy") {
    problems.push({ path: "removalPolicy", value: JSON.stringify(props.removalPolicy), message: 'must be "retain" or "destroy"' });
  }
  const retention = props.backups?.retentionDays;
  if (retention !== undefined && (!Number.isInteger(retention) || retention < 1 || retention > 1000)) {
    problems.push({ path: "backups.retentionDays", value: describeValue(retention), message: "must be a whole number of days from 1 to 1000, such as 14" });
  }
  let config: RedisSentinelConfig | undefined;
  let placement: Ec2Placement | undefined;
  if (props.spec != null && "auth" in props.spec) {
    problems.push({
      path: "spec.auth",
      value: "(hidden)",
      message: "is set by the construct: the passwords are generated into SSM SecureStrings under parameterPath. Remove spec.auth",
    });
  }
  const regionIsToken = Token.isUnresolved(props.region);
  if (regionIsToken) problems.push({ path: "region", value: "(a Terraform token)", message: TOKEN_AT_SYNTH });
  try {
    config = parseSpec({
      ...spec,
      // A token region is reported above; the spec is checked with a stand-in for it.
      auth: { secrets: { source: "ssm-parameters", path: parameterPath, region: regionIsToken ? "eu-west-1" : props.region } },
    });
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    // The secret store is built from two props, neither of them a secret: name those, with their values.
    const fromProps: Record<string, SpecProblem> = {
      "auth.secrets.path": {
        path: "parameterPath",
        value: JSON.stringify(parameterPath),
        message: `must be an SSM parameter path without a trailing slash, such as /redis-sentinel/prod${props.parameterPath === undefined ? "; the default, /redis-sentinel/<construct id>, is not one for this id: give parameterPath" : ""}`,
      },
      "auth.secrets.region": { path: "region", value: JSON.stringify(props.region), message: "must be an AWS region, such as eu-west-1" },
    };
    problems.push(...e.problems.map((p) => fromProps[p.path] ?? prefixProblem("spec.", p)));
  }
  const {
    spec: _spec,
    region: _region,
    parameterPath: _path,
    monitoring: _monitoring,
    alarms: _alarms,
    notifications: _notifications,
    backups: _backups,
    removalPolicy: _removalPolicy,
    sessionManager: _sessionManager,
    ...placementInput
  } = props;
  // Terraform tokens: the volume sizes are resource attributes only, and may be tokens; the instance type decides
  // the image's architecture and the memory the configs are rendered for, so it may not; nor may the whole client
  // list, since one rule per CIDR is made at synth (its elements may be tokens).
  const input: Record<string, unknown> = { ...placementInput };
  const tokenSizes: Partial<Record<"dataVolumeGiB" | "rootVolumeGiB", number>> = {};
  for (const field of ["dataVolumeGiB", "rootVolumeGiB"] as const) {
    if (Token.isUnresolved(input[field])) {
      tokenSizes[field] = input[field] as number;
      delete input[field];
    }
  }
  if (Token.isUnresolved(input.instanceType)) {
    problems.push({ path: "instanceType", value: "(a Terraform token)", message: TOKEN_AT_SYNTH });
    delete input.instanceType;
  }
  if (Array.isArray(input.clientCidrs) && Token.isUnresolved(input.clientCidrs)) {
    problems.push({
      path: "clientCidrs",
      value: "(a Terraform list token)",
      message: "is a list known only when Terraform applies, and one rule per CIDR is made when the stack is synthesized: give the list itself (its CIDRs may be tokens), or add such CIDRs with allowFrom",
    });
    delete input.clientCidrs;
  }
  try {
    // With an invalid node count, the placement is checked without it (NaN): that problem is reported once.
    const parsed = parseEc2Placement(input, config?.topology.nodeCount ?? NaN, Token.isUnresolved);
    placement = { ...parsed, ...tokenSizes };
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    problems.push(...e.problems);
  }
  if (config?.tls.certificates?.source === "env") {
    problems.push({
      path: "spec.tls.certificates",
      value: JSON.stringify(config.tls.certificates),
      message:
        'cannot be read on a VM: the boot unit has no such environment. Keep the certificates in SSM, such as { source: "ssm-parameters", path: "/redis-sentinel/prod/tls", region: "eu-west-1" }',
    });
  }
  const tooMuch =
    config && instanceMemory !== undefined
      ? maxmemoryProblem(config.redis.memory.maxmemory, instanceMemory, {
          name: `the ${instanceMemory / 2 ** 30} GiB of instanceType ${instanceType}`,
          consequence: "the node would run out of memory before Redis evicts, above all while it saves",
          fix: "choose a larger instanceType",
        })
      : undefined;
  if (tooMuch) problems.push(prefixProblem("spec.", tooMuch));
  // The zones must be the region's: a volume is created in its zone, within the stack's region.
  const region = props.region;
  placement?.nodes.forEach((node, i) => {
    const zone = node.availabilityZone;
    if (typeof region !== "string" || !AWS_REGION.test(region) || Token.isUnresolved(zone)) return;
    if (!zone.startsWith(region) || zone.length === region.length) {
      problems.push({ path: `nodes[${i}].availabilityZone`, value: JSON.stringify(zone), message: `is not a zone of region ${region}: those are named ${region}a, ${region}b, ...` });
    }
  });
  if (problems.length > 0 || !config || !placement) throw new SpecError(problems);
  return { config, placement };
}

/** Plan-time checks of a node's subnet against its placement. */
function subnetChecks(index: number, node: Ec2Placement["nodes"][number], vpcId: string) {
  const literal = (v: string | undefined): v is string => v !== undefined && !Token.isUnresolved(v);
  return [
    ...(literal(node.availabilityZone)
      ? [
          {
            condition: `\${self.availability_zone == "${node.availabilityZone}"}`,
            errorMessage: `nodes[${index}].availabilityZone is ${node.availabilityZone}, but subnet ${node.subnetId} is in another zone: give the subnet's zone`,
          },
        ]
      : []),
    ...(literal(vpcId)
      ? [{ condition: `\${self.vpc_id == "${vpcId}"}`, errorMessage: `subnet ${node.subnetId} of nodes[${index}] is not in vpcId ${vpcId}` }]
      : []),
    ...(literal(node.subnetCidr)
      ? [
          {
            // AWS gives the network address: 10.20.1.0/24 for a subnetCidr written 10.20.1.7/24.
            condition: `\${self.cidr_block == "${ipaddr.IPv4.networkAddressFromCIDR(node.subnetCidr).toString()}/${ipaddr.IPv4.parseCIDR(node.subnetCidr)[1]}"}`,
            errorMessage: `nodes[${index}].subnetCidr is ${node.subnetCidr}, but subnet ${node.subnetId} has another CIDR: give the subnet's CIDR`,
          },
        ]
      : []),
  ];
}

/** The region of an SNS topic ARN, or undefined for a token. */
function topicRegion(arn: string): string | undefined {
  return Token.isUnresolved(arn) ? undefined : arn.split(":")[3];
}

