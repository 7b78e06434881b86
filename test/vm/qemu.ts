import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Address plan of QEMU's user network (slirp, restrict=on: it reaches nothing but the guestfwd rules below). It is
 * the link-local range, where EC2 serves its metadata, so that 169.254.169.254 is one of its guestfwd addresses.
 */
export const USER_NET = {
  net: "169.254.0.0/16",
  host: "169.254.0.2",
  guest: "169.254.0.15",
  imds: "169.254.169.254",
  /** The image's apt proxy (apt.conf.d) and the SSM endpoint name in its /etc/hosts lead here. */
  aptProxy: { address: "169.254.170.1", port: 3142 },
  ssm: "169.254.170.2",
} as const;

/** The serial of the data volume's NVMe disk: the test image's udev rule names it /dev/sdf. */
export const DATA_DISK_SERIAL = "redis-ha-data";

export interface VmOptions {
  /** Short name, used in file and tap device names. */
  readonly name: string;
  readonly dir: string;
  readonly kernel: string;
  readonly initrd: string;
  /** The root disk: a qcow2 overlay on the image. */
  readonly rootDisk: string;
  /** The data volume: a raw file, attached as an NVMe disk. */
  readonly dataDisk: string;
  /** The cidata disk (NoCloud): user-data, meta-data, network-config. */
  readonly seed: string;
  readonly privateMac: string;
  readonly metaMac: string;
  /** Ports on 127.0.0.1 for the guestfwd rules. */
  readonly forwards: { readonly imds: number; readonly ssm: number; readonly aptProxy: number };
  readonly memoryMiB?: number;
  /** Called with the tap device's name once it exists, before the guest runs. */
  readonly attachTap: (tap: string) => void;
}

/** A qcow2 overlay on `base` (a new root disk). */
export function rootDisk(base: string, file: string): string {
  const result = spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", file], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`qemu-img create ${file}: ${result.stderr}`);
  return file;
}

/** An empty data volume of `gib` GiB (a sparse raw file). */
export function emptyVolume(file: string, gib = 2): string {
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, "");
  fs.truncateSync(file, gib * 1024 ** 3);
  return file;
}

/**
 * The NoCloud seed of a VM: a cidata ISO holding the user data as given, meta-data with the instance id, and the
 * network config placing the node at `address` on its private interface (and at USER_NET.guest on the other).
 */
export function seedDisk(
  file: string,
  seed: {
    readonly userData: string;
    readonly instanceId: string;
    readonly hostname: string;
    readonly privateMac: string;
    readonly metaMac: string;
    readonly address: string;
    readonly prefixLength: number;
    readonly gateway: string;
  },
): string {
  const dir = `${file}.d`;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "user-data"), seed.userData);
  // JSON, which is YAML too: cloud-init's YAML 1.1 parser reads an unquoted MAC address as a base-60 number.
  fs.writeFileSync(path.join(dir, "meta-data"), JSON.stringify({ "instance-id": seed.instanceId, "local-hostname": seed.hostname }));
  fs.writeFileSync(
    path.join(dir, "network-config"),
    JSON.stringify({
      version: 2,
      ethernets: {
        ens5: {
          match: { macaddress: seed.privateMac },
          "set-name": "ens5",
          addresses: [`${seed.address}/${seed.prefixLength}`],
          routes: [{ to: "0.0.0.0/0", via: seed.gateway }],
        },
        ens6: {
          match: { macaddress: seed.metaMac },
          "set-name": "ens6",
          addresses: [`${USER_NET.guest}/16`],
        },
      },
    }),
  );
  const result = spawnSync(
    "genisoimage",
    ["-quiet", "-output", file, "-volid", "cidata", "-joliet", "-rock", ...["user-data", "meta-data", "network-config"].map((f) => path.join(dir, f))],
    { encoding: "utf8" },
  );
  if (result.status !== 0) throw new Error(`genisoimage ${file}: ${result.stderr}`);
  return file;
}

/** One JSON command on a QEMU socket (QMP or the guest agent); resolves with the reply's `return`. */
async function jsonCommands(socketPath: string, commands: ReadonlyArray<Record<string, unknown>>, timeoutMs: number, greeting: boolean): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    const replies: unknown[] = [];
    let buffer = "";
    let waitingGreeting = greeting;
    let sent = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${socketPath}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const sendNext = () => {
      if (sent === commands.length) {
        clearTimeout(timer);
        socket.end();
        resolve(replies);
        return;
      }
      socket.write(`${JSON.stringify(commands[sent++])}\n`);
    };
    socket.on("connect", () => {
      if (!waitingGreeting) sendNext();
    });
    socket.on("data", (data) => {
      buffer += data.toString();
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (!line) continue;
        let message: { QMP?: unknown; return?: unknown; error?: { desc?: string }; event?: unknown };
        try {
          message = JSON.parse(line);
        } catch {
          continue; // a partial line left by an earlier client of the guest agent
        }
        if (message.event) continue;
        if (waitingGreeting && message.QMP) {
          waitingGreeting = false;
          sendNext();
          continue;
        }
        if (message.error) {
          clearTimeout(timer);
          socket.destroy();
          reject(new Error(`${socketPath}: ${message.error.desc ?? JSON.stringify(message.error)}`));
          return;
        }
        if ("return" in message) {
          replies.push(message.return);
          sendNext();
        }
      }
    });
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** What a command run in the guest printed. */
export interface GuestResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Kernel options for speed under TCG only: no Spectre/Meltdown mitigations (page table isolation flushes the
 * emulated TLB at every system call). They change no behaviour the tests look at.
 */
const SPEED_UNDER_TCG = "mitigations=off";

let tapCount = 0;

/**
 * One QEMU VM under TCG (see the README: the machine's /dev/kvm cannot run these guests), booting the image's
 * kernel directly with the root disk on virtio and the data volume on NVMe, its private NIC on a tap device that
 * `attachTap` moves onto the VM network, and a restricted user network whose only ways out are guestfwd rules to
 * the test's servers. The test reaches the guest through qemu-guest-agent. Stopped by its PID.
 */
export class TestVm {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  readonly console: string;
  private readonly qmp: string;
  private readonly qga: string;

  constructor(readonly options: VmOptions) {
    this.console = path.join(options.dir, `${options.name}.console.log`);
    this.qmp = path.join(options.dir, `${options.name}.qmp.sock`);
    this.qga = path.join(options.dir, `${options.name}.qga.sock`);
  }

  get pid(): number | undefined {
    return this.child && this.child.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  /** Powers the VM on. Resolves once the guest runs. */
  async start(): Promise<void> {
    if (this.pid) throw new Error(`${this.options.name} is running`);
    const o = this.options;
    const tap = `rhvt${process.pid % 10000}x${tapCount++}`.slice(0, 15);
    const forward = (address: string, port: number, to: number) => `guestfwd=tcp:${address}:${port}-cmd:socat STDIO TCP:127.0.0.1:${to}`;
    const args = [
      "-n", process.env.REDIS_HA_VM_NICE ?? "10", "qemu-system-x86_64",
      "-machine", "q35,accel=tcg",
      // The baseline x86-64 model: TCG runs it faster than "max" (measured: 800 s against 884 s to cloud-init done).
      "-cpu", "qemu64",
      "-smp", "1",
      "-m", String(o.memoryMiB ?? 1536),
      "-nodefaults", "-display", "none", "-no-user-config",
      "-serial", `file:${this.console}`,
      "-kernel", o.kernel,
      "-initrd", o.initrd,
      // No I/O timeouts under load: the NVMe timeout as amazon-ec2-utils sets it on EBS.
      "-append", `root=/dev/vda rw console=ttyS0,115200 nvme_core.io_timeout=4294967295 net.ifnames=0 ${SPEED_UNDER_TCG}`,
      "-drive", `file=${o.rootDisk},if=virtio,format=qcow2`,
      "-drive", `file=${o.dataDisk},if=none,id=data,format=raw`,
      "-device", `nvme,drive=data,serial=${DATA_DISK_SERIAL}`,
      "-drive", `file=${o.seed},if=virtio,format=raw,readonly=on`,
      "-netdev", `tap,id=private,ifname=${tap},script=no,downscript=no`,
      "-device", `virtio-net-pci,netdev=private,mac=${o.privateMac}`,
      "-netdev",
      [
        "user,id=meta,restrict=on,ipv6=off",
        `net=${USER_NET.net},host=${USER_NET.host},dhcpstart=${USER_NET.guest}`,
        forward(USER_NET.imds, 80, o.forwards.imds),
        forward(USER_NET.ssm, 443, o.forwards.ssm),
        forward(USER_NET.aptProxy.address, USER_NET.aptProxy.port, o.forwards.aptProxy),
      ].join(","),
      "-device", `virtio-net-pci,netdev=meta,mac=${o.metaMac}`,
      "-device", "virtio-serial",
      "-chardev", `socket,id=qga,path=${this.qga},server=on,wait=off`,
      "-device", "virtserialport,chardev=qga,name=org.qemu.guest_agent.0",
      "-qmp", `unix:${this.qmp},server=on,wait=off`,
      "-S",
    ];
    for (const f of [this.qmp, this.qga]) fs.rmSync(f, { force: true });
    fs.appendFileSync(this.console, `\n==== test: power on ${new Date().toISOString()} ====\n`);
    const child = spawn("nice", args, { stdio: ["ignore", "ignore", "pipe"] });
    this.child = child;
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    for (const until = Date.now() + 30_000; !fs.existsSync(this.qmp); await sleep(100)) {
      if (child.exitCode !== null || Date.now() > until) {
        this.kill();
        throw new Error(`QEMU of ${o.name} did not start: ${stderr}`);
      }
    }
    // QMP answers once QEMU made its devices: the tap exists then, and the guest has not run yet (-S).
    await jsonCommands(this.qmp, [{ execute: "qmp_capabilities" }], 10_000, true);
    o.attachTap(tap);
    await jsonCommands(this.qmp, [{ execute: "qmp_capabilities" }, { execute: "cont" }], 10_000, true);
  }

  /** Pulls the plug: SIGKILL to QEMU (its PID). Resolves once it exited. */
  async kill(): Promise<void> {
    const pid = this.pid;
    if (pid) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await this.exited;
  }

  /** Runs `argv` in the guest through qemu-guest-agent; rejects when the agent does not answer within `timeoutMs`. */
  async exec(argv: readonly string[], timeoutMs = 60_000): Promise<GuestResult> {
    const sync = { execute: "guest-sync", arguments: { id: Math.floor(Math.random() * 1e9) } };
    const [, started] = (await jsonCommands(
      this.qga,
      [sync, { execute: "guest-exec", arguments: { path: argv[0], arg: argv.slice(1), "capture-output": true } }],
      10_000,
      false,
    )) as [unknown, { pid: number }];
    for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(500)) {
      const [, status] = (await jsonCommands(this.qga, [sync, { execute: "guest-exec-status", arguments: { pid: started.pid } }], 10_000, false)) as [
        unknown,
        { exited: boolean; exitcode?: number; "out-data"?: string; "err-data"?: string },
      ];
      if (status.exited) {
        const text = (b64?: string) => (b64 ? Buffer.from(b64, "base64").toString("utf8") : "");
        return { exitCode: status.exitcode ?? -1, stdout: text(status["out-data"]), stderr: text(status["err-data"]) };
      }
    }
    throw new Error(`${argv.join(" ")} in ${this.options.name} did not finish within ${timeoutMs} ms`);
  }

  /** Asks the guest agent until it answers (the guest has booted as far as qemu-guest-agent). */
  async waitForAgent(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        await jsonCommands(this.qga, [{ execute: "guest-ping" }], 5_000, false);
        return;
      } catch (e) {
        if (Date.now() > until) throw new Error(`the guest agent of ${this.options.name} did not answer within ${timeoutMs} ms: ${String(e)}`);
        if (!this.pid) throw new Error(`${this.options.name} is not running`);
        await sleep(2000);
      }
    }
  }

  /** Reboots the guest's operating system (systemctl reboot through the guest agent); QEMU keeps running. */
  async reboot(): Promise<void> {
    await jsonCommands(this.qga, [{ execute: "guest-shutdown", arguments: { mode: "reboot" } }], 10_000, false).catch(() => undefined);
  }
}
