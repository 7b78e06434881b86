import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const portIsFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });

/** A free port below 32768: apt-cacher-ng 3.7 fails to bind higher ones ("Error resolving address for binding"). */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await portIsFree(port)) return port;
  }
  throw new Error("no free port for apt-cacher-ng");
}

/**
 * Debian's apt-cacher-ng, run by the test on 127.0.0.1 with its cache under `dir` (kept between runs): the VMs'
 * only way to packages. It serves Debian's archive and security archive (deb.debian.org) and nothing else
 * (ForceManaged: only the remapped repositories).
 */
export class AptProxy {
  static async start(dir: string): Promise<AptProxy> {
    const conf = path.join(dir, "conf");
    for (const d of [conf, path.join(dir, "cache"), path.join(dir, "log")]) fs.mkdirSync(d, { recursive: true });
    const port = await freePort();
    fs.writeFileSync(
      path.join(conf, "acng.conf"),
      [
        `CacheDir: ${path.join(dir, "cache")}`,
        `LogDir: ${path.join(dir, "log")}`,
        "SupportDir: /usr/lib/apt-cacher-ng",
        `Port: ${port}`,
        "BindAddress: 127.0.0.1",
        `PidFile: ${path.join(dir, "apt-cacher-ng.pid")}`,
        "ForeGround: 1",
        `SocketPath: ${path.join(dir, "socket")}`,
        "Remap-debrep: deb.debian.org/debian ; http://deb.debian.org/debian/",
        "Remap-secdeb: deb.debian.org/debian-security security.debian.org/debian-security ; http://deb.debian.org/debian-security/",
        "ForceManaged: 1",
        "ExThreshold: 4",
        "",
      ].join("\n"),
    );
    const child = spawn("apt-cacher-ng", ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const proxy = new AptProxy(child, port);
    for (const until = Date.now() + 20_000; Date.now() < until; await sleep(200)) {
      if (child.exitCode !== null) throw new Error(`apt-cacher-ng exited: ${stderr}`);
      const up = await new Promise<boolean>((resolve) => {
        const socket = net.connect(port, "127.0.0.1", () => {
          socket.end();
          resolve(true);
        });
        socket.on("error", () => resolve(false));
      });
      if (up) return proxy;
    }
    proxy.stop();
    throw new Error(`apt-cacher-ng did not listen on 127.0.0.1:${port} within 20 s: ${stderr}`);
  }

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  /** Stops apt-cacher-ng by its PID. */
  stop(): void {
    if (this.child.exitCode === null && this.child.pid) {
      try {
        process.kill(this.child.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  }
}
