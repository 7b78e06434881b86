import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { LocalCluster, withClient } from "../../src/local";
import { renderClientReconfigScript, renderNotificationScript } from "../../src/render";
import { parseSpec } from "../../src/spec";
import { processesUnder } from "./leaks";

// A real 3-node cluster on 127.0.12.11-13 whose sentinels run the rendered notification and client-reconfig
// scripts, which POST to a webhook this test serves on 127.0.12.30. A kill -9 of the master must reach it.
jest.setTimeout(120_000);

const root = fs.mkdtempSync(path.join(os.tmpdir(), "notify-test-"));
const dir = path.join(root, "cluster");
const notificationScript = path.join(root, "redis-ha-notify");
const clientReconfigScript = path.join(root, "redis-ha-reconfig");
const config = parseSpec({
  auth: { secrets: { source: "env", prefix: "REDIS_HA_" } },
  sentinel: { notificationScript, clientReconfigScript },
});

type Received = Record<string, unknown> & { kind: string };
const received: Received[] = [];
const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    if (req.method === "POST" && req.url === "/events" && req.headers["content-type"] === "application/json") {
      received.push(JSON.parse(body) as Received);
      res.writeHead(204).end();
    } else {
      res.writeHead(400).end();
    }
  });
});
let cluster: LocalCluster | undefined;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.12.30", resolve));
  const url = `http://127.0.12.30:${(server.address() as AddressInfo).port}/events`;
  // Sentinel refuses to load a config naming a script that does not exist or is not executable.
  fs.writeFileSync(notificationScript, renderNotificationScript(config, { webhookUrl: url }), { mode: 0o755 });
  fs.writeFileSync(clientReconfigScript, renderClientReconfigScript(config, { webhookUrl: url }), { mode: 0o755 });
  cluster = await LocalCluster.up(config, { dir, firstAddress: "127.0.12.11" });
});

afterAll(async () => {
  if (cluster) await cluster.down();
  await new Promise((resolve) => server.close(resolve));
  expect(processesUnder(dir)).toEqual([]);
  fs.rmSync(root, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const events = (name: string) => received.filter((e) => e.kind === "notification" && e.event === name);
const reconfigs = () => received.filter((e) => e.kind === "client-reconfig");

test("the sentinels load the configs that name both scripts", async () => {
  const master = await withClient("127.0.12.12", config.sentinel.port, cluster!.credentials("app"), async (c) =>
    (await c.call("SENTINEL", "MASTER", "mymaster")) as string[],
  );
  expect(master).toContain(notificationScript);
  expect(master).toContain(clientReconfigScript);
});

test("kill -9 of the master: every sentinel reports +switch-master, and the client-reconfig script runs once per sentinel", async () => {
  await cluster!.stop("redis", 0, "SIGKILL");
  const deadline = Date.now() + 60_000;
  while ((events("+switch-master").length < 3 || reconfigs().length < 3) && Date.now() < deadline) await sleep(250);
  // Sentinel runs a script after the event; give a late duplicate, if any, a moment to arrive.
  await sleep(1000);

  const switches = events("+switch-master");
  expect(switches).toHaveLength(3);
  const newMaster = String(switches[0].description).split(" ")[3];
  expect(newMaster).toMatch(/^127\.0\.12\.1[23]$/);
  for (const e of switches) {
    expect(e).toEqual({
      source: "redis-ha-sentinel",
      kind: "notification",
      cluster: "mymaster",
      host: expect.any(String),
      time: expect.stringMatching(/Z$/),
      event: "+switch-master",
      description: `mymaster 127.0.12.11 6379 ${newMaster} 6379`,
    });
  }
  // The warning-level events before it, from the sentinels that saw them.
  expect(events("+sdown").some((e) => e.description === "master mymaster 127.0.12.11 6379")).toBe(true);
  expect(events("+odown").length).toBeGreaterThanOrEqual(1);
  expect(events("+failover-end").length).toBeGreaterThanOrEqual(1);

  // One leader, and every other sentinel learns the new master as an observer.
  expect(reconfigs().map((e) => e.role).sort()).toEqual(["leader", "observer", "observer"]);
  for (const e of reconfigs()) {
    expect(e).toMatchObject({
      master: "mymaster",
      state: "start",
      from: { ip: "127.0.12.11", port: 6379 },
      to: { ip: newMaster, port: 6379 },
    });
  }

  // Every run ended with exit 0: Sentinel logs -script-error for any other exit and -script-timeout for a kill.
  for (const node of [0, 1, 2]) {
    const log = fs.readFileSync(path.join(dir, `node-${node}`, "sentinel.log"), "utf8");
    expect(log).not.toMatch(/-script-(error|timeout)/);
  }
});
