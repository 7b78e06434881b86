import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isOurProcess, isRunning, startProcess, stopProcess } from "../../src/local/processes";
import { LocalCluster } from "../../src/local/cluster";
import { parseSpec } from "../../src/spec";

const home = fs.mkdtempSync(path.join(os.tmpdir(), "processes-test-"));
const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "processes-test-"));
const pids: number[] = [];
afterAll(async () => {
  await Promise.all(pids.map((pid) => stopProcess(pid, "SIGKILL")));
  for (const dir of [home, elsewhere]) fs.rmSync(dir, { recursive: true, force: true });
});

test("a started process is recognised by its home and binary from its first instant, and only then", async () => {
  const pid = startProcess("sleep", ["30"], home, path.join(home, "sleep.log"));
  pids.push(pid);
  expect(isOurProcess(pid, "sleep", home)).toBe(true); // still the `sh` that sets the umask, or already sleep
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(isOurProcess(pid, "sleep", home)).toBe(true); // after exec
  expect(isOurProcess(pid, "redis-server", home)).toBe(false);
  expect(isOurProcess(pid, "sleep", elsewhere)).toBe(false);
  expect((fs.statSync(path.join(home, "sleep.log")).mode & 0o777).toString(8)).toBe("600");

  await stopProcess(pid);
  expect(isRunning(pid)).toBe(false);
  expect(isOurProcess(pid, "sleep", home)).toBe(false);
});

test("a process that moved below its home still counts (Redis moves to its `dir`, home/data)", async () => {
  fs.mkdirSync(path.join(home, "data"), { recursive: true });
  const pid = startProcess("sleep", ["30"], path.join(home, "data"), path.join(home, "sleep-data.log"));
  pids.push(pid);
  expect(isOurProcess(pid, "sleep", home)).toBe(true);
  expect(isOurProcess(pid, "sleep", `${home}-other`)).toBe(false); // a prefix of the name is not a parent
  await stopProcess(pid);
});

test("a refused local start leaves no directory behind (TLS without a tlsDir)", async () => {
  const dir = path.join(os.tmpdir(), `redis-ha-refused-${process.pid}`);
  const config = parseSpec({
    auth: { secrets: { source: "env", prefix: "REDIS_HA_" } },
    tls: { enabled: true, certificates: { source: "directory", path: "/etc/redis-ha-tls" } },
  });
  await expect(LocalCluster.up(config, { dir })).rejects.toThrow("this cluster uses TLS: give a directory holding tls.crt, tls.key and ca.crt");
  expect(fs.existsSync(dir)).toBe(false);
});
