import { spawnSync } from "node:child_process";
import { renderBackupScript, type BackupOptions } from "../../src/render";
import { parseSpec } from "../../src/spec";

const addresses = ["10.0.1.11", "10.0.2.11", "10.0.3.11"];
const s3: BackupOptions = { target: { s3: { bucket: "redis-ha-backups", region: "eu-west-1", prefix: "prod/" } } };
const directory: BackupOptions = { target: { directory: "/var/backups/redis-ha" }, onMaster: true };

describe("shellcheck", () => {
  test.each([
    ["environment variables", { source: "env", prefix: "REDIS_HA_" }],
    ["a directory", { source: "directory", path: "/run/secrets/redis-ha" }],
    ["SSM parameters", { source: "ssm-parameters", path: "/redis-sentinel/dev", region: "eu-west-1" }],
  ] as const)("passes on the backup script, to S3 and to a directory, with the passwords in %s", (_, secrets) => {
    const config = parseSpec({ auth: { secrets } });
    for (const options of [s3, directory]) {
      const result = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "-"], {
        input: renderBackupScript(config, { addresses }, 1, options),
        encoding: "utf8",
      });
      expect(result.error).toBeUndefined();
      expect(result.stdout).toBe("");
      expect(result.status).toBe(0);
    }
  });
});

const config = parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } });

test("copies to S3 under <prefix><master-name>/<node>/<UTC time>.rdb, the password only through REDISCLI_AUTH", () => {
  const text = renderBackupScript(config, { addresses }, 1, s3);
  expect(text).toContain("bucket=redis-ha-backups\n");
  expect(text).toContain('uri="s3://$bucket/prod/mymaster/10.0.2.11/$stamp.rdb"');
  expect(text).toContain('aws s3 cp --region eu-west-1 --only-show-errors "$work/dump.rdb" "$uri"');
  expect(text).toContain('redis() { redis_cli 10.0.2.11 "$@"; }');
  expect(text).toContain('REDISCLI_AUTH="$redis_password" timeout 3 redis-cli --no-auth-warning --raw --user admin -h "$1" -p 6379');
  expect(text.match(/\$redis_password/g)).toHaveLength(1); // handed to REDISCLI_AUTH only
  expect(text).not.toMatch(/redis-cli[^\n]* -a /);
});

test("holds the snapshot by a hard link in the data directory: no copy through /tmp or the root volume", () => {
  const text = renderBackupScript(config, { addresses }, 1, s3);
  expect(text).toContain('work="$(mktemp -d -- "$dir/.redis-ha-backup.XXXXXX")"');
  expect(text).toContain('ln -- "$file" "$work/dump.rdb"');
  expect(text).not.toMatch(/mktemp -d\)|cp -- "\$file"/);
});

test("bad options fail with the field, the value and the fix, all at once", () => {
  expect(() => renderBackupScript(config, { addresses }, 1, { target: { s3: { bucket: "B", region: "eu", prefix: "no-slash" } }, saveTimeoutSeconds: 0 })).toThrow(
    [
      "invalid backup options:",
      '  - target.s3.bucket "B" is not an S3 bucket name. Use one such as redis-ha-backups',
      '  - target.s3.region "eu" is not an AWS region. Use one such as eu-west-1',
      "  - target.s3.prefix \"no-slash\" must be empty or end with '/', of letters, digits and !_.*'()-, such as backups/prod/",
      "  - saveTimeoutSeconds 0 must be a whole number of seconds, at least 1, such as 600",
    ].join("\n"),
  );
  expect(() => renderBackupScript(config, { addresses }, 1, { target: { directory: "backups" } })).toThrow(
    "target.directory \"backups\" must be an absolute path of letters, digits, '.', '_', '-' and '/', such as /var/backups/redis-ha",
  );
});
