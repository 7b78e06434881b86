import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderClientReconfigScript, renderNotificationScript, type NotifyOptions } from "../../src/render";
import { parseSpec } from "../../src/spec";

const config = parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } });
const sns = { topicArn: "arn:aws:sns:eu-west-1:123456789012:redis-ha-events", region: "eu-west-1" };
const url = "https://hooks.example.com/services/T000/B000/secret-token";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "notify-unit-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("shellcheck", () => {
  test.each<[string, NotifyOptions]>([
    ["no destination", {}],
    ["SNS and a webhook URL", { sns, webhookUrl: url }],
    ["a webhook URL read from a file", { webhookUrlFile: "/etc/redis-ha/secret/webhook-url" }],
  ])("passes on both scripts with %s", (_, options) => {
    for (const text of [renderNotificationScript(config, options), renderClientReconfigScript(config, options)]) {
      const result = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "-"], { input: text, encoding: "utf8" });
      expect(result.error).toBeUndefined();
      expect(result.stdout).toBe("");
      expect(result.status).toBe(0);
    }
  });
});

test("bad options fail with the field, the value and the fix, all at once", () => {
  expect(() =>
    renderNotificationScript(config, {
      sns: { topicArn: "redis-ha-events", region: "europe" },
      webhookUrl: "ftp://x y",
      webhookUrlFile: "relative/file",
    }),
  ).toThrow(
    [
      "invalid notification options:",
      '  - sns.topicArn "redis-ha-events" is not the ARN of a standard SNS topic. Use one such as arn:aws:sns:eu-west-1:123456789012:redis-ha-events',
      '  - sns.region "europe" is not an AWS region. Use one such as eu-west-1',
      '  - webhookUrl "ftp://x y" must be an http:// or https:// URL without spaces, quotes or backslashes, such as https://alerts.example.com/redis',
      "  - webhookUrlFile \"relative/file\" must be an absolute path of letters, digits, '.', '_', '-' and '/', such as /etc/redis-ha/secret/webhook-url",
      "  - webhookUrl and webhookUrlFile are both set: keep one (webhookUrlFile for a URL that carries a token)",
    ].join("\n"),
  );
});

/**
 * A directory of stand-ins for logger (fails, as with no /dev/log), aws and curl: each records its arguments (and
 * curl the config it reads) under `record`, one file per run, and answers `curlReply`.
 */
function fakeBin(name: string, curlReply: string): { bin: string; record: string } {
  const bin = path.join(root, name, "bin");
  const record = path.join(root, name, "record");
  fs.mkdirSync(bin, { recursive: true });
  fs.mkdirSync(record, { recursive: true });
  const write = (file: string, text: string) => fs.writeFileSync(path.join(bin, file), text, { mode: 0o755 });
  write("logger", "#!/bin/sh\nexit 1\n");
  write(
    "aws",
    `#!/bin/bash\nprintf '%s\\n' "$@" > ${record}/aws-args\necho 0f1e2d3c-message-id\n`,
  );
  write(
    "curl",
    [
      "#!/bin/bash",
      `printf '%s\\n' "$@" > ${record}/curl-args`,
      `cat > ${record}/curl-body`,
      'prev=""',
      `for arg in "$@"; do if [ "$prev" = --config ]; then cat "$arg" > ${record}/curl-config; fi; prev="$arg"; done`,
      `printf '%s' '${curlReply}'`,
      "",
    ].join("\n"),
  );
  return { bin, record };
}

function run(text: string, args: string[], bin: string) {
  const script = path.join(root, `script-${Math.random().toString(36).slice(2)}.sh`);
  fs.writeFileSync(script, text, { mode: 0o755 });
  return spawnSync(script, args, {
    encoding: "utf8",
    timeout: 20_000,
    env: { PATH: `${bin}:/usr/bin:/bin`, HOSTNAME: "node-a" },
  });
}

describe("the notification script", () => {
  const description = 'master mymaster 10.0.1.11 6379 "quoted"\\';

  test("logs one structured line (to stderr when logger fails), publishes to SNS and POSTs JSON, and exits 0", () => {
    const { bin, record } = fakeBin("deliver", "204 ");
    const result = run(renderNotificationScript(config, { sns, webhookUrl: url }), ["+odown", description], bin);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      'redis-ha-sentinel: event=+odown cluster=mymaster description="master mymaster 10.0.1.11 6379 \\"quoted\\"\\\\"\n',
    );
    const body = JSON.parse(fs.readFileSync(path.join(record, "curl-body"), "utf8"));
    expect(body).toEqual({
      source: "redis-ha-sentinel",
      kind: "notification",
      cluster: "mymaster",
      host: "node-a",
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      event: "+odown",
      description,
    });
    const awsArgs = fs.readFileSync(path.join(record, "aws-args"), "utf8").split("\n");
    expect(awsArgs.slice(0, 6)).toEqual(["sns", "publish", "--region", "eu-west-1", "--topic-arn", sns.topicArn]);
    expect(JSON.parse(awsArgs[awsArgs.indexOf("--message") + 1])).toEqual(body);
    expect(awsArgs[awsArgs.indexOf("--subject") + 1]).toBe("redis-ha mymaster: +odown");
    // The webhook URL may carry a token: curl reads it from its config, never from its arguments.
    const curlArgs = fs.readFileSync(path.join(record, "curl-args"), "utf8");
    expect(curlArgs).not.toContain("secret-token");
    expect(curlArgs).toContain("--max-time\n5\n");
    expect(fs.readFileSync(path.join(record, "curl-config"), "utf8")).toBe(`url = "${url}"\n`);
  });

  test("reads the webhook URL from webhookUrlFile at each run", () => {
    const { bin, record } = fakeBin("url-file", "200 ");
    const file = path.join(root, "webhook-url");
    fs.writeFileSync(file, "http://127.0.12.39:9/from-file\n");
    const result = run(renderNotificationScript(config, { webhookUrlFile: file }), ["+sdown", "master mymaster 10.0.1.11 6379"], bin);
    expect(result.status).toBe(0);
    expect(fs.readFileSync(path.join(record, "curl-config"), "utf8")).toBe('url = "http://127.0.12.39:9/from-file"\n');
  });

  test.each([
    ["an HTTP error", "503 ", 'delivery=webhook status=failed error="HTTP 503"'],
    ["no connection", "000 Failed to connect to hooks.example.com port 443", 'delivery=webhook status=failed error="Failed to connect to hooks.example.com port 443"'],
  ])("logs %s from the webhook and still exits 0 (no retry by Sentinel)", (_, reply, line) => {
    const { bin } = fakeBin(`fail-${reply.slice(0, 3)}`, reply);
    const result = run(renderNotificationScript(config, { webhookUrl: url }), ["+sdown", "master mymaster 10.0.1.11 6379"], bin);
    expect(result.status).toBe(0);
    expect(result.stderr.trim().split("\n")).toEqual([
      'redis-ha-sentinel: event=+sdown cluster=mymaster description="master mymaster 10.0.1.11 6379"',
      `redis-ha-sentinel: ${line}`,
    ]);
  });

  test("a real curl to a closed loopback port gives up at once and exits 0", () => {
    const { bin } = fakeBin("real-curl", "");
    fs.rmSync(path.join(bin, "curl"));
    const started = Date.now();
    const result = run(renderNotificationScript(config, { webhookUrl: "http://127.0.12.39:9/closed" }), ["+sdown", "x"], bin);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain("redis-ha-sentinel: delivery=webhook status=failed error=\"Failed to connect to 127.0.12.39 port 9");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test("wrong arguments exit 2, which Sentinel never retries", () => {
    const { bin, record } = fakeBin("usage", "200 ");
    const result = run(renderNotificationScript(config, { webhookUrl: url }), ["+sdown"], bin);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('redis-ha-sentinel: error=usage expected="<event-type> <event-description>" got="+sdown"\n');
    expect(fs.existsSync(path.join(record, "curl-body"))).toBe(false);
  });
});

describe("the client-reconfig script", () => {
  const args = ["mymaster", "observer", "start", "10.0.1.11", "6379", "10.0.1.12", "6379"];

  test("logs one line and sends the addresses as JSON, ports as numbers", () => {
    const { bin, record } = fakeBin("reconfig", "200 ");
    const result = run(renderClientReconfigScript(config, { webhookUrl: url }), args, bin);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe(
      'redis-ha-sentinel: event=client-reconfig cluster=mymaster master="mymaster" role=observer state=start from=10.0.1.11:6379 to=10.0.1.12:6379\n',
    );
    expect(JSON.parse(fs.readFileSync(path.join(record, "curl-body"), "utf8"))).toMatchObject({
      kind: "client-reconfig",
      master: "mymaster",
      role: "observer",
      state: "start",
      from: { ip: "10.0.1.11", port: 6379 },
      to: { ip: "10.0.1.12", port: 6379 },
    });
  });

  test.each([[args.slice(0, 6)], [[...args.slice(0, 4), "port", ...args.slice(5)]]])("exits 2 on bad arguments %j", (bad) => {
    const { bin } = fakeBin(`reconfig-bad-${bad.length}`, "200 ");
    const result = run(renderClientReconfigScript(config, { webhookUrl: url }), bad, bin);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^redis-ha-sentinel: error=usage /);
  });
});
