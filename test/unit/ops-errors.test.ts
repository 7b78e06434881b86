import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startProcess, stopProcess } from "../../src/local/processes";
import { withConnection } from "../../src/ops/connect";
import { drill } from "../../src/ops/drill";

// The operators' commands say why they cannot reach a cluster, against a real redis-server on 127.0.9.32 and an
// address where nothing listens (127.0.9.33).
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ops-errors-"));
let pid: number | undefined;

beforeAll(async () => {
  pid = startProcess("redis-server", ["--bind", "127.0.9.32", "--port", "6379", "--requirepass", "x", "--save", "", "--appendonly", "no", "--dir", dir], dir, path.join(dir, "redis.log"));
  const ping = () => spawnSync("redis-cli", ["-h", "127.0.9.32", "--no-auth-warning", "-a", "x", "PING"], { encoding: "utf8" }).stdout.trim();
  for (let i = 0; i < 100 && ping() !== "PONG"; i++) await new Promise((r) => setTimeout(r, 50));
});

afterAll(async () => {
  if (pid !== undefined) await stopProcess(pid, "SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
});

test("no password given: NOAUTH, and which variable to set", async () => {
  await expect(withConnection({ host: "127.0.9.32", port: 6379 }, {}, (c) => c.ping())).rejects.toThrow(
    "NOAUTH Authentication required.: no password was given. Set REDIS_PASSWORD (and SENTINEL_PASSWORD where the sentinels' differs)",
  );
  await expect(withConnection({ host: "127.0.9.32", port: 6379 }, { password: "x" }, (c) => c.ping())).resolves.toBe("PONG");
});

test("a drill that reaches no sentinel says why, not just that no master was found", async () => {
  const result = await drill({ sentinels: [{ host: "127.0.9.33", port: 26379 }], credentials: { redis: {}, sentinel: {} } });
  expect(result.ok).toBe(false);
  expect(result.problems).toEqual([expect.stringMatching(/^no sentinel of 1 names a master for "mymaster": 127\.0\.9\.33:26379: .*ECONNREFUSED/)]);
});
