import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startProcess, stopProcess } from "../../src/local/processes";
import { REDIS_COMMAND_TABLE } from "../../src/spec/redis-commands";
import { aclRuleProblem } from "../../src/spec/schema";

// The ACL check's command table is data read from a real redis-server (Debian's, the one our VMs run): this test
// reads it again and compares. REDIS_COMMANDS_WRITE=1 writes src/spec/redis-commands.ts from it instead.
const ADDRESS = "127.0.9.31";
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-commands-"));
let pid: number | undefined;

afterAll(async () => {
  if (pid !== undefined) await stopProcess(pid, "SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => spawnSync("redis-cli", ["-h", ADDRESS, "-p", "6379", ...args], { encoding: "utf8" }).stdout.trim();

/** The table as `redis-server` reports it: its version, `ACL CAT`, and `COMMAND LIST` (commands and subcommands). */
async function readTable() {
  pid = startProcess("redis-server", ["--bind", ADDRESS, "--port", "6379", "--save", "", "--appendonly", "no", "--dir", dir], dir, path.join(dir, "redis.log"));
  for (let i = 0; i < 100 && cli("PING") !== "PONG"; i++) await new Promise((r) => setTimeout(r, 50));
  const version = /redis_version:(\S+)/.exec(cli("INFO", "server"))![1];
  const categories = cli("ACL", "CAT").split("\n").sort();
  const commands: Record<string, string[]> = {};
  const names = cli("COMMAND", "LIST").split("\n").sort();
  for (const name of names.filter((n) => !n.includes("|"))) commands[name] = [];
  for (const name of names.filter((n) => n.includes("|"))) {
    const [command, sub] = name.split("|");
    commands[command].push(sub);
  }
  return { version, categories, commands };
}

test("the command table is the one the deployed redis-server reports", async () => {
  const table = await readTable();
  expect(table.commands.get).toEqual([]);
  expect(table.commands.client).toContain("list");
  if (process.env.REDIS_COMMANDS_WRITE === "1") {
    const file = path.join(__dirname, "../../src/spec/redis-commands.ts");
    fs.writeFileSync(
      file,
      [
        `// Generated from redis-server ${table.version} (Debian 12) by test/unit/redis-commands.test.ts with REDIS_COMMANDS_WRITE=1:`,
        "// `ACL CAT` and `COMMAND LIST`. The test compares it with a real redis-server at every run.",
        "",
        "/** The ACL categories, commands and subcommands of the Redis version our nodes run. */",
        `export const REDIS_COMMAND_TABLE: { readonly version: string; readonly categories: readonly string[]; readonly commands: Readonly<Record<string, readonly string[]>> } = ${JSON.stringify(table, null, 2)};`,
        "",
      ].join("\n"),
    );
  }
  expect(table).toEqual(REDIS_COMMAND_TABLE);
});

test.each([
  "+@read", "-@dangerous", "+@all", "+@reads", "+get", "+GET", "+gett", "-flushall", "+client|list", "+CLIENT|LIST", "+client|nosuch",
  "-client|kill", "+select|0", "-select|0", "+config|get", "-config|set", "+config|nosuch",
])("%s: refused here exactly when redis-server's ACL SETUSER refuses it", (rule) => {
  // The server of the test above, still running.
  expect(cli("PING")).toBe("PONG");
  const reply = cli("ACL", "SETUSER", "probe", "reset", rule);
  expect(aclRuleProblem(rule) === undefined).toBe(reply === "OK");
});
