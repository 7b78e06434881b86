import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DlmLifecyclePolicy } from "@cdktf/provider-aws/lib/dlm-lifecycle-policy";
import { EbsVolume } from "@cdktf/provider-aws/lib/ebs-volume";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Testing, TerraformStack } from "cdktf";
import { parse } from "yaml";
import { Ec2RedisSentinel, SNAPSHOT_TAG, type Ec2RedisSentinelProps } from "../../constructs/ec2-redis-sentinel";
import {
  BACKUP_UNIT_NAMES,
  EXPORTER_ENV_FILE,
  textOfBase64GzipExpression,
  USER_DATA_LIMIT_BYTES,
  VM_BACKUP_SCRIPT,
  VM_EXPORTER_SCRIPT,
  VM_NOTIFY_SCRIPTS,
} from "../../src/render";
import { EC2_PLACEMENT } from "./fixtures";

const TOPIC = "arn:aws:sns:eu-west-1:123456789012:redis-ha-events";
const ALARM_TOPIC = "arn:aws:sns:eu-west-1:123456789012:ops-pager";
const base: Ec2RedisSentinelProps = { ...EC2_PLACEMENT, spec: { topology: { masterName: "spoke-redis" } } };
const all: Ec2RedisSentinelProps = {
  ...base,
  monitoring: { cidrs: ["10.20.200.0/24", "10.30.0.0/16"] },
  alarms: { snsTopicArn: ALARM_TOPIC },
  notifications: { snsTopicArn: TOPIC },
  backups: {},
};

function synth(p: Ec2RedisSentinelProps) {
  const stack = new TerraformStack(Testing.app(), "test");
  const cluster = new Ec2RedisSentinel(stack, "redis", p);
  const text = Testing.synth(stack);
  const json = JSON.parse(text);
  const userData: string[] = Object.values(json.resource.aws_instance).map((i: any) => textOfBase64GzipExpression(i.user_data_base64)!);
  return { cluster, text, json, userData };
}
const files = (userData: string) =>
  Object.fromEntries(parse(userData).write_files.map((f: { path: string; content: string; permissions: string }) => [f.path, f]));
const policyStatements = (json: any) =>
  Object.values(json.data.aws_iam_policy_document).flatMap((d: any) => d.statement) as Array<{ actions: string[]; resources?: string[] }>;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ec2-operations-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const shellcheck = (script: string) => spawnSync("shellcheck", ["--shell=bash", "-"], { input: script, encoding: "utf8" });

const plain = synth(base);
const full = synth(all);

test("with none of the operations props, nothing of them is added", () => {
  for (const type of ["aws_cloudwatch_metric_alarm", "aws_s3_bucket", "aws_dlm_lifecycle_policy"]) expect(plain.json.resource[type]).toBeUndefined();
  expect(plain.userData[0]).not.toContain("prometheus-redis-exporter");
  expect(plain.userData[0]).not.toContain("notification-script");
  // alertRules are there for every cluster: a user may scrape with an exporter of their own.
  expect(plain.cluster.alertRules).toContain("spoke-redis");
});

describe("monitoring", () => {
  test("one ingress rule per monitoring CIDR on 9121, and no other rule on 9121", () => {
    for (const cidr of ["10.20.200.0/24", "10.30.0.0/16"]) {
      expect(full.text).toHaveResourceWithProperties(VpcSecurityGroupIngressRule, {
        cidr_ipv4: cidr,
        from_port: 9121,
        to_port: 9121,
        ip_protocol: "tcp",
      });
    }
    const on9121 = Object.values(full.json.resource.aws_vpc_security_group_ingress_rule).filter((r: any) => r.from_port === 9121);
    expect(on9121).toHaveLength(2);
  });

  test("the exporter package, and a script writing its environment file with the password read from SSM", () => {
    full.userData.forEach((userData, i) => {
      const cloud = parse(userData);
      expect(cloud.packages).toContain("prometheus-redis-exporter");
      // After the boot script, which writes the TLS files the exporter may need.
      expect(cloud.runcmd.indexOf(VM_EXPORTER_SCRIPT)).toBeGreaterThan(cloud.runcmd.findIndex((c: string) => c.includes("redis-ha-boot")));
      const script: string = files(userData)[VM_EXPORTER_SCRIPT].content;
      expect(script).toContain(`REDIS_ADDR=redis://10.20.${i + 1}.10:6379`);
      expect(script).toContain("REDIS_USER=admin"); // the environments run in ACL mode by default
      expect(script).toContain("aws ssm get-parameter --region eu-west-1 --name \"/redis-sentinel/test/$1\"");
      expect(script).toContain(`chown root:prometheus "$tmp"`);
      expect(script).toContain(`chmod 0640 "$tmp"`);
      expect(script).toContain(`mv -f -- "$tmp" ${EXPORTER_ENV_FILE}`);
      // The unit's $ARGS stays empty: nothing about the password on the exporter's command line.
      expect(script).toContain("'ARGS=\"\"'");
      expect(script).not.toMatch(/--redis\.password|-redis\.password/);
      const check = shellcheck(script);
      expect(check.stdout).toBe("");
      expect(check.status).toBe(0);
    });
  });

  test("the script writes the environment file 0640 with the password single-quoted, which systemd reads verbatim", () => {
    const script: string = files(full.userData[0])[VM_EXPORTER_SCRIPT].content;
    // Run the script's writer with a fake secret store, root and systemctl replaced.
    const dir = fs.mkdtempSync(path.join(tmp, "exporter-"));
    const secrets = path.join(dir, "secrets");
    fs.mkdirSync(secrets);
    for (const key of ["admin-password", "sentinel-password"]) fs.writeFileSync(path.join(secrets, key), "p4ss word$x\"y");
    const env = path.join(dir, "env");
    const patched = script
      .replaceAll(EXPORTER_ENV_FILE, env)
      .replace(/^chown .*$/m, ":")
      .replace(/^systemctl .*$/gm, ":");
    const run = spawnSync("bash", ["-c", patched], { env: { ...process.env, REDIS_HA_SECRETS_DIR: secrets }, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect((fs.statSync(env).mode & 0o777).toString(8)).toBe("640");
    // systemd reads a single-quoted EnvironmentFile value verbatim; the script refuses a password holding a quote,
    // a backslash or a control character.
    const lines = fs.readFileSync(env, "utf8").split("\n");
    expect(lines).toContain("REDIS_PASSWORD='p4ss word$x\"y'");
    expect(lines).toContain("REDIS_USER=admin");
  });

  test("with TLS: the plain-text port when there is one, else TLS with copies of the node's certificate", () => {
    const certificates = { source: "ssm-parameters", path: "/redis-sentinel/test/tls", region: "eu-west-1" } as const;
    const script = (tls: Record<string, unknown>) =>
      files(synth({ ...base, monitoring: { cidrs: ["10.20.200.0/24"] }, spec: { ...base.spec, tls: { enabled: true, certificates, ...tls } } }).userData[0])[
        VM_EXPORTER_SCRIPT
      ].content as string;
    const plaintext = script({ plaintextPort: 6380 });
    expect(plaintext).toContain("REDIS_ADDR=redis://10.20.1.10:6380");
    expect(plaintext).not.toContain("REDIS_EXPORTER_TLS");
    const tls = script({});
    expect(tls).toContain("REDIS_ADDR=rediss://10.20.1.10:6379");
    expect(tls).toContain("REDIS_EXPORTER_TLS_CA_CERT_FILE=/var/lib/prometheus/redis-ha-tls/ca.crt");
    expect(tls).toContain('install -m 0600 -o prometheus -g prometheus "/var/lib/redis-ha/tls/$f"');
    for (const text of [plaintext, tls]) {
      const check = shellcheck(text);
      expect(check.stdout).toBe("");
      expect(check.status).toBe(0);
    }
  });

  test("a monitoring CIDR of the whole internet, or a bad one, is refused with the field and the fix", () => {
    expect(() => synth({ ...base, monitoring: { cidrs: ["10.0.0.0/8", "0.0.0.0/0"] } })).toThrow(
      'monitoring.cidrs[1] = "0.0.0.0/0": opens Redis and Sentinel to every address on the internet.',
    );
    expect(() => synth({ ...base, monitoring: { cidrs: ["10.1.2.3"] } })).toThrow('Did you mean "10.1.2.3/32"?');
  });

  test("alertRules is the rendered Prometheus rules for this cluster", () => {
    const rules = parse(full.cluster.alertRules);
    expect(rules.groups.length).toBeGreaterThan(0);
    expect(full.cluster.alertRules).toContain("spoke-redis");
  });
});

describe("alarms", () => {
  test("one StatusCheckFailed alarm per instance, to the topic", () => {
    const alarms = Object.values(full.json.resource.aws_cloudwatch_metric_alarm) as any[];
    expect(alarms).toHaveLength(3);
    expect(full.text).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      namespace: "AWS/EC2",
      metric_name: "StatusCheckFailed",
      comparison_operator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      alarm_actions: [ALARM_TOPIC],
      ok_actions: [ALARM_TOPIC],
    });
    expect(alarms.map((a) => a.alarm_name).sort()).toEqual([0, 1, 2].map((i) => `test-redis-node-${i}-status-check-failed`));
    const instances = Object.keys(full.json.resource.aws_instance).map((k) => `\${aws_instance.${k}.id}`);
    expect(alarms.map((a) => a.dimensions.InstanceId).sort()).toEqual(instances.sort());
  });

  test("alarms: true gives the alarms without actions", () => {
    const { json } = synth({ ...base, alarms: true });
    const alarms = Object.values(json.resource.aws_cloudwatch_metric_alarm) as any[];
    expect(alarms).toHaveLength(3);
    for (const a of alarms) expect(a.alarm_actions).toBeUndefined();
  });
});

describe("notifications", () => {
  test("the scripts are placed under /etc/redis-ha/ and sentinel.conf names them", () => {
    for (const userData of full.userData) {
      const f = files(userData);
      for (const p of Object.values(VM_NOTIFY_SCRIPTS)) {
        expect(f[p].permissions).toBe("0755");
        expect(f[p].content).toContain(TOPIC);
        const check = shellcheck(f[p].content);
        expect(check.stdout).toBe("");
        expect(check.status).toBe(0);
      }
      const sentinelConf: string = f["/etc/redis-ha/sentinel.conf"].content;
      expect(sentinelConf).toContain(`sentinel notification-script spoke-redis ${VM_NOTIFY_SCRIPTS.notification}`);
      expect(sentinelConf).toContain(`sentinel client-reconfig-script spoke-redis ${VM_NOTIFY_SCRIPTS.clientReconfig}`);
    }
    expect(full.cluster.config.sentinel.notificationScript).toBe(VM_NOTIFY_SCRIPTS.notification);
  });

  test("the role may publish to that topic only", () => {
    const publish = policyStatements(full.json).filter((s) => s.actions.includes("sns:Publish"));
    expect(publish).toEqual([expect.objectContaining({ actions: ["sns:Publish"], resources: [TOPIC] })]);
    expect(policyStatements(plain.json).some((s) => s.actions.includes("sns:Publish"))).toBe(false);
  });

  test("scripts the user set too, or a topic unknown at synth, are refused", () => {
    expect(() =>
      synth({ ...base, notifications: { snsTopicArn: TOPIC }, spec: { ...base.spec, sentinel: { notificationScript: "/usr/local/bin/n" } } }),
    ).toThrow(
      'spec.sentinel.notificationScript = "/usr/local/bin/n": is set by the construct with notifications: remove it, or remove notifications',
    );
    expect(() => synth({ ...base, notifications: { snsTopicArn: "not-an-arn" } })).toThrow('notifications.snsTopicArn = "not-an-arn": must be the ARN of a standard SNS topic');
  });
});

describe("backups", () => {
  test("a new bucket: named uniquely by Terraform, versioned, encrypted, private, expiring after 14 days by default", () => {
    // Bucket names are global: Terraform makes one unique, and the nodes read it from an SSM parameter.
    const [bucketId] = Object.keys(full.json.resource.aws_s3_bucket);
    expect(full.text).toHaveResourceWithProperties(S3Bucket, { bucket_prefix: "redis-ha-backups-" });
    expect(full.text).toHaveResourceWithProperties(SsmParameter, {
      name: "/redis-sentinel/test/backup-bucket",
      type: "String",
      value: `\${aws_s3_bucket.${bucketId}.bucket}`,
    });
    expect(full.text).toHaveResourceWithProperties(S3BucketVersioningA, { versioning_configuration: { status: "Enabled" } });
    expect(full.text).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }],
    });
    expect(full.text).toHaveResourceWithProperties(S3BucketPublicAccessBlock, {
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(full.text).toHaveResourceWithProperties(S3BucketLifecycleConfiguration, {
      rule: [expect.objectContaining({ status: "Enabled", expiration: [{ days: 14 }] })],
    });
  });

  test("destroying the environment: the new bucket is kept (prevent_destroy), or emptied and deleted with removalPolicy destroy", () => {
    const [kept] = Object.values(full.json.resource.aws_s3_bucket) as any[];
    expect(kept.lifecycle).toEqual({ prevent_destroy: true });
    expect(kept.force_destroy).toBeUndefined();
    const { json } = synth({ ...all, removalPolicy: "destroy" });
    const [deleted] = Object.values(json.resource.aws_s3_bucket) as any[];
    expect(deleted.force_destroy).toBe(true);
    expect(deleted.lifecycle).toBeUndefined();
    expect(() => synth({ ...base, removalPolicy: "snapshot" as never })).toThrow('removalPolicy = "snapshot": must be "retain" or "destroy"');
  });

  test("the role may put objects under the cluster's prefix only, and read the bucket's name", () => {
    const [bucketId] = Object.keys(full.json.resource.aws_s3_bucket);
    const put = policyStatements(full.json).filter((s) => s.actions.some((a) => a.startsWith("s3:")));
    expect(put).toEqual([
      expect.objectContaining({ actions: ["s3:PutObject"], resources: [`\${aws_s3_bucket.${bucketId}.arn}/spoke-redis/*`] }),
    ]);
    const parameterId = Object.keys(full.json.resource.aws_ssm_parameter).find((k) => k.includes("backup-bucket"))!;
    expect(policyStatements(full.json)).toContainEqual(
      expect.objectContaining({ actions: ["ssm:GetParameter"], resources: [`\${aws_ssm_parameter.${parameterId}.arn}`] }),
    );
  });

  test("an existing bucket: no bucket resource, the script writes there", () => {
    const { json, userData } = synth({ ...base, backups: { bucketName: "acme-redis-backups", retentionDays: 30 } });
    expect(json.resource.aws_s3_bucket).toBeUndefined();
    expect(files(userData[0])[VM_BACKUP_SCRIPT].content).toContain("bucket=acme-redis-backups\n");
    expect(files(userData[0])[VM_BACKUP_SCRIPT].content).toContain('uri="s3://$bucket/spoke-redis/10.20.1.10/$stamp.rdb"');
    const dlm = Object.values(json.resource.aws_dlm_lifecycle_policy) as any[];
    expect(dlm[0].policy_details.schedule[0].retain_rule).toEqual({ count: 30 });
  });

  test("the backup script and its timer pass shellcheck and systemd-analyze verify", () => {
    const f = files(full.userData[1]);
    const script: string = f[VM_BACKUP_SCRIPT].content;
    expect(script).toContain("--name /redis-sentinel/test/backup-bucket --query Parameter.Value --output text");
    expect(script).toContain('uri="s3://$bucket/spoke-redis/10.20.2.10/$stamp.rdb"');
    const check = shellcheck(script);
    expect(check.stdout).toBe("");
    const dir = fs.mkdtempSync(path.join(tmp, "units-"));
    fs.writeFileSync(path.join(dir, "redis-ha-backup"), script, { mode: 0o755 });
    const service: string = f[`/etc/systemd/system/${BACKUP_UNIT_NAMES.service}`].content;
    fs.writeFileSync(path.join(dir, BACKUP_UNIT_NAMES.service), service.replace(VM_BACKUP_SCRIPT, path.join(dir, "redis-ha-backup")));
    fs.writeFileSync(path.join(dir, BACKUP_UNIT_NAMES.timer), f[`/etc/systemd/system/${BACKUP_UNIT_NAMES.timer}`].content);
    const verify = spawnSync("systemd-analyze", ["verify", ...Object.values(BACKUP_UNIT_NAMES).map((u) => path.join(dir, u))], {
      encoding: "utf8",
    });
    expect(verify.stderr).toBe("");
    expect(verify.status).toBe(0);
    expect(parse(full.userData[1]).runcmd).toContain(`systemctl enable --now ${BACKUP_UNIT_NAMES.timer}`);
  });

  test("daily EBS snapshots of the tagged data volumes by DLM, with its service role", () => {
    const tag = "test/redis";
    expect(full.text).toHaveResourceWithProperties(EbsVolume, { tags: expect.objectContaining({ [SNAPSHOT_TAG]: tag }) });
    expect(full.text).toHaveResourceWithProperties(DlmLifecyclePolicy, {
      state: "ENABLED",
      policy_details: {
        resource_types: ["VOLUME"],
        target_tags: { [SNAPSHOT_TAG]: tag },
        schedule: [expect.objectContaining({ retain_rule: { count: 14 }, copy_tags: true })],
      },
    });
    expect(full.text).toHaveResourceWithProperties(IamRolePolicyAttachment, {
      policy_arn: "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole",
    });
    expect(Object.values(plain.json.resource.aws_ebs_volume).some((v: any) => SNAPSHOT_TAG in v.tags)).toBe(false);
  });

  test("the DLM description holds only what the API takes (letters, digits, spaces, _ and -), also for a master name with '.'", () => {
    const { json } = synth({ ...base, spec: { topology: { masterName: "spoke.redis-1" } }, backups: {} });
    const [policy] = Object.values(json.resource.aws_dlm_lifecycle_policy) as any[];
    expect(policy.description).toBe("Daily snapshots of the data volumes of Redis Sentinel cluster spoke-redis-1");
    expect(policy.description).toMatch(/^[0-9A-Za-z _-]{1,500}$/);
  });

  test("with a customer managed key, DLM's role may use that key for the snapshots", () => {
    const key = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-0000-1111-2222-333344445555";
    const { json } = synth({ ...base, kmsKeyArn: key, backups: {} });
    expect(policyStatements(json)).toContainEqual(expect.objectContaining({ actions: expect.arrayContaining(["kms:CreateGrant"]), resources: [key] }));
    expect(policyStatements(full.json).some((s) => s.actions.includes("kms:CreateGrant"))).toBe(false);
  });

  test("bad backup settings are refused with the field and the fix", () => {
    expect(() => synth({ ...base, backups: { bucketName: "Bad_Bucket", retentionDays: 0 } })).toThrow(
      /backups\.bucketName = "Bad_Bucket": must be an S3 bucket name[\s\S]*backups\.retentionDays = 0: must be a whole number of days/,
    );
  });
});

test("with every operation on, each node's user data is valid cloud-config under 16 KB gzipped", () => {
  full.userData.forEach((text, i) => {
    expect(gzipSync(text).length).toBeLessThan(USER_DATA_LIMIT_BYTES);
    const file = path.join(tmp, `all-${i}.yaml`);
    fs.writeFileSync(file, text);
    const schema = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
    expect(`${schema.stdout}${schema.stderr}`).toContain("Valid cloud-config");
    expect(schema.status).toBe(0);
  });
});
