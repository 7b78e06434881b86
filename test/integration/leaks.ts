import * as fs from "node:fs";

/**
 * PIDs of live processes whose working directory is `dir` or below it: every process a local cluster starts runs
 * in its node's home there. Read from /proc, independently of the PIDs the cluster recorded.
 */
export function processesUnder(dir: string): number[] {
  return fs
    .readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const cwd = fs.readlinkSync(`/proc/${pid}/cwd`).replace(/ \(deleted\)$/, "");
        const state = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
        return (cwd === dir || cwd.startsWith(`${dir}/`)) && state !== "Z";
      } catch {
        return false;
      }
    })
    .map(Number);
}
