import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { LocalCluster, localAddresses } from "../../src/local";
import { parseSpec } from "../../src/spec";
import { processesUnder } from "./leaks";

// How `LocalCluster.up` fails, on 127.0.4.11-13: fast, with the reason, and with nothing left running.
jest.setTimeout(60_000);

const config = parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } });
const root = fs.mkdtempSync(path.join(os.tmpdir(), "local-test-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

test("a port already taken stops `up` with the process's own log line, and nothing is left running", async () => {
  // Holds the port and drops every connection (the health checks will try it), so that close() leaves nothing open.
  const squatter = net.createServer((socket) => socket.destroy()).listen(config.sentinel.port, "127.0.4.12");
  await new Promise((resolve) => squatter.once("listening", resolve));
  const dir = path.join(root, "taken");
  try {
    await expect(LocalCluster.up(config, { dir, firstAddress: "127.0.4.11", healthTimeoutMs: 50_000 })).rejects.toThrow(
      /^redis-sentinel of node 1 \(127\.0\.4\.12:26379\) exited; the end of .*sentinel\.log:\n[^]*Address already in use/,
    );
    expect(processesUnder(dir)).toEqual([]);
  } finally {
    squatter.close();
    if (fs.existsSync(path.join(dir, "cluster.json"))) await LocalCluster.open(dir).down();
  }
});

test("local clusters listen on loopback addresses only", () => {
  expect(localAddresses(3)).toEqual(["127.0.0.11", "127.0.0.12", "127.0.0.13"]);
  expect(() => localAddresses(3, "10.0.0.11")).toThrow("local clusters listen on loopback only: 10.0.0.11 is not an address in 127.0.0.0/8");
  expect(() => localAddresses(5, "127.0.0.252")).toThrow("5 nodes from 127.0.0.252 run past 127.0.0.254");
});
