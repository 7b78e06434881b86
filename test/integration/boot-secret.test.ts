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
// 127.0.3.11 (and .21) accept a password full of characters that need quoting, exactly as given; the replicas on .12-13
// (.22-23) run too, so that the empty rendered master may start.
jest.setTimeout(60_000);

const password = 'sp ace\\back"quote$dollar`tick';
const root = fs.mkdtempSync(path.join(os.tmpdir(), "boot-secret-"));
const pids: number[] = [];

afterAll(async () => {
  await Promise.all(pids.map((pid) => stopProcess(pid)));
  fs.rmSync(root, { recursive: true, force: true });
});

test.each([
  ["password mode", false, "127.0.3.11"],
  ["ACL mode", true, "127.0.3.21"],
] as const)("%s: Redis and Sentinel accept the passwords the boot script quoted", async (_, acl, address) => {
  const config = parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } }, acl: { enabled: acl } });
  const addresses = [address, address.replace(/\.(\d+)$/, (_m, d) => `.${Number(d) + 1}`), address.replace(/\.(\d+)$/, (_m, d) => `.${Number(d) + 2}`)];
  const nodes = renderCluster(config, { addresses });
  const stage = (index: number) => stageNode(nodes[index], path.join(root, `stage-${addresses[index]}`), path.join(root, `node-${addresses[index]}`));
  // Every user gets a password of its own, each full of characters that need quoting.
  const env: Record<string, string> = acl
    ? {
        REDIS_HA_APP_PASSWORD: `app ${password}`,
        REDIS_HA_ADMIN_PASSWORD: `admin ${password}`,
        REDIS_HA_REPLICATION_PASSWORD: `replication ${password}`,
        REDIS_HA_SENTINEL_PASSWORD: `sentinel ${password}`,
      }
    : { REDIS_HA_PASSWORD: password };
  // The replicas boot first and their Redis answers, empty: the empty rendered master then starts (a new cluster).
  for (const index of [1, 2]) {
    const replica = stage(index);
    expect(runBootScript(replica, env).status).toBe(0);
    pids.push(startProcess("redis-server", [NODE_FILES.redisConf], replica.home, path.join(replica.home, "redis.log")));
  }
  for (const index of [1, 2]) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const keys = await withClient(addresses[index], config.redis.port, acl ? { username: "admin", password: env.REDIS_HA_ADMIN_PASSWORD } : { password }, (c) => c.dbsize()).catch(() => undefined);
      if (keys === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const staged = stage(0);
  const boot = runBootScript(staged, env);
  const { home } = staged;
  expect(boot.stderr).toBe("");
  expect(boot.status).toBe(0);

  pids.push(startProcess("redis-server", [NODE_FILES.redisConf], home, path.join(home, "redis.log")));
  pids.push(startProcess("redis-sentinel", [NODE_FILES.sentinelConf], home, path.join(home, "sentinel.log")));

  const app = acl ? { username: "app", password: `app ${password}` } : { password };
  for (const port of [config.redis.port, config.sentinel.port]) {
    let pong: unknown;
    for (let attempt = 0; attempt < 50 && pong !== "PONG"; attempt++) {
      pong = await withClient(address, port, app, (c) => c.ping()).catch(
        () => new Promise((resolve) => setTimeout(resolve, 100)),
      );
    }
    expect(pong).toBe("PONG");
    await expect(withClient(address, port, { ...app, password: app.password.slice(0, -1) }, (c) => c.ping())).rejects.toThrow();
  }
  // The sentinel authenticates to its master (auth-pass, as the sentinel user in ACL mode) from the included file:
  // its pings get PONG (Sentinel does not count a NOAUTH or NOPERM reply as an answer).
  const sentinel = acl ? { username: "sentinel", password: `sentinel ${password}` } : { password };
  let view: Record<string, string> = {};
  for (let attempt = 0; attempt < 50; attempt++) {
    view = fieldsOf(await withClient(address, config.sentinel.port, sentinel, (c) => c.call("SENTINEL", "MASTER", "mymaster")));
    if (view.flags === "master" && Number(view["last-ok-ping-reply"]) < 1100) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect(view.flags).toBe("master");
  expect(Number(view["last-ok-ping-reply"])).toBeLessThan(1100);
});
