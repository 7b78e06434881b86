import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";

/** The Debian binaries a local cluster runs. */
export const BINARIES = { redis: "redis-server", sentinel: "redis-sentinel" } as const;

/** Throws a clear error when redis-server or redis-sentinel is not on PATH. */
export function requireBinaries(): void {
  const missing = Object.values(BINARIES).filter((bin) => spawnSync("sh", ["-c", `command -v ${bin}`]).status !== 0);
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(" and ")} not found on PATH. Install Debian's packages: apt-get install redis-server redis-sentinel`,
    );
  }
}

/**
 * Starts `command args` detached, in `cwd`, appending its output to `logFile`, and returns its PID. The process
 * outlives this one (so that `redis-ha local up` can return); it is stopped by PID with `stopProcess`. `prefix`
 * runs it through a command that execs it in place (`ip netns exec NS`), so that the PID stays the process's.
 */
export function startProcess(command: string, args: readonly string[], cwd: string, logFile: string, prefix: readonly string[] = []): number {
  const out = fs.openSync(logFile, "a", 0o600);
  try {
    // umask 077, as the VM units set it: Sentinel and CONFIG REWRITE re-create the configs, which then hold the
    // password, and a re-created file takes its mode from the umask. `exec` keeps the PID.
    const sh = ["sh", "-c", 'umask 077 && exec "$0" "$@"', command, ...args];
    const [program, ...argv] = [...prefix, ...sh];
    const child = spawn(program, argv, {
      cwd,
      detached: true,
      stdio: ["ignore", out, out],
    });
    child.on("error", () => undefined); // reported below through the missing PID
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${command} in ${cwd}`);
    return child.pid;
  } finally {
    fs.closeSync(out);
  }
}

/** True while `pid` runs; a zombie (exited, not yet reaped) counts as gone. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/**
 * True when `pid` is a process this tool started as `binary` in `home`: its working directory is the node's home
 * or below it (Redis moves to its `dir`, home/data), and its command line names the binary. Both hold from the
 * first instant (the `sh` that sets the umask, then the process it becomes, before and after it sets its title),
 * unlike the title `redis-server ADDRESS:PORT`. Guards against signalling a reused PID.
 */
export function isOurProcess(pid: number, binary: string, home: string): boolean {
  if (!isRunning(pid)) return false;
  try {
    const cwd = fs.readlinkSync(`/proc/${pid}/cwd`).replace(/ \(deleted\)$/, "");
    if (cwd !== home && !cwd.startsWith(`${home}/`)) return false;
    // While a process is in exec (sh becoming redis-server) the kernel shows an empty command line: read again.
    let cmdline = "";
    for (let attempt = 0; attempt < 20 && cmdline === ""; attempt++) {
      if (attempt > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    }
    return cmdline.split("\0").some((arg) => arg === binary || arg.startsWith(`${binary} `));
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `signal` to `pid` and waits up to `graceMs` for it to exit, then sends SIGKILL. */
export async function stopProcess(pid: number, signal: NodeJS.Signals = "SIGTERM", graceMs = 10000): Promise<void> {
  if (!isRunning(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isRunning(pid) && Date.now() < deadline) await sleep(50);
  if (isRunning(pid)) {
    process.kill(pid, "SIGKILL");
    while (isRunning(pid)) await sleep(20);
  }
}
