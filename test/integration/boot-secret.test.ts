import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { withClient } from "../../src/local";
import { runBootScript, stageNode } from "../../src/local/boot";
import { fieldsOf } from "../../src/local/client";
import { startProcess, stopProcess } from "../../src/local/processes";
import { NODE_FILES, renderCluster } from "../../src/render";
import { parseSpec } from "../../src/spec";

// The secret files the boot script writes are read by the real consumers: redis-server and redis-sentinel on
// 127.0.3.11 accept a password full of characters that need quoting, exactly as given.
jest.setTimeout(60_000);

const password = 'sp ace\\back"quote$dollar`tick';
const root = fs.mkdtempSync(path.join(os.tmpdir(), "boot-secret-"));
const pids: number[] = [];

afterAll(async () => {
  await Promise.all(pids.map((pid) => stopProcess(pid)));
  fs.rmSync(root, { recursive: true, force: true });
});

test("Redis and Sentinel accept the password the boot script quoted", async () => {
  const config = parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } });
  const [node] = renderCluster(config, { addresses: ["127.0.3.11", "127.0.3.12", "127.0.3.13"] });
  const staged = stageNode(node, path.join(root, "stage"), path.join(root, "node-0"));
  const boot = runBootScript(staged, { REDIS_PASSWORD: password });
  const { home } = staged;
  expect(boot.stderr).toBe("");
  expect(boot.status).toBe(0);

  pids.push(startProcess("redis-server", [NODE_FILES.redisConf], home, path.join(home, "redis.log")));
  pids.push(startProcess("redis-sentinel", [NODE_FILES.sentinelConf], home, path.join(home, "sentinel.log")));

  for (const port of [config.redis.port, config.sentinel.port]) {
    let pong: unknown;
    for (let attempt = 0; attempt < 50 && pong !== "PONG"; attempt++) {
      pong = await withClient("127.0.3.11", port, password, (c) => c.ping()).catch(
        () => new Promise((resolve) => setTimeout(resolve, 100)),
      );
    }
    expect(pong).toBe("PONG");
    await expect(withClient("127.0.3.11", port, password.slice(0, -1), (c) => c.ping())).rejects.toThrow();
  }
  // The sentinel authenticates to its master with `sentinel auth-pass` from the same file: its pings get PONG
  // (Sentinel does not count a NOAUTH reply as an answer).
  let view: Record<string, string> = {};
  for (let attempt = 0; attempt < 50; attempt++) {
    view = fieldsOf(await withClient("127.0.3.11", config.sentinel.port, password, (c) => c.call("SENTINEL", "MASTER", "mymaster")));
    if (view.flags === "master" && Number(view["last-ok-ping-reply"]) < 1100) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect(view.flags).toBe("master");
  expect(Number(view["last-ok-ping-reply"])).toBeLessThan(1100);
});
