import dns from "node:dns";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Stands in for cluster DNS (CoreDNS answering for headless Services): one hosts file that every emulated pod
 * reads as /etc/hosts, listing `<pod>.<service>.<namespace>.svc.<domain>` for each pod that exists, whatever its
 * readiness (publishNotReadyAddresses). glibc reads /etc/hosts at each lookup, and the file is replaced by rename,
 * so every pod sees a change at its next lookup. Nothing caches: CoreDNS's cache (30 s by default) is not emulated.
 */
export class ClusterDns {
  private readonly records = new Map<string, string>();

  /** `dir` holds the hosts file; pods mount it read-only. */
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    this.write();
  }

  get file(): string {
    return path.join(this.dir, "hosts");
  }

  /** Publishes `name` at `address` (replacing an earlier record). */
  set(name: string, address: string): void {
    this.records.set(name, address);
    this.write();
  }

  /** Removes `name`'s record: the name no longer resolves. */
  remove(name: string): void {
    this.records.delete(name);
    this.write();
  }

  /** The address `name` resolves to, if any. */
  lookup(name: string): string | undefined {
    return this.records.get(name.replace(/\.$/, ""));
  }

  private write(): void {
    const lines = ["127.0.0.1 localhost", "::1 localhost", ...[...this.records].map(([name, address]) => `${address} ${name}`), ""];
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, lines.join("\n"), { mode: 0o644 });
    fs.renameSync(tmp, this.file);
  }

  /**
   * Makes this process resolve the names under `domain` from these records (and nothing else under it): the test
   * process then reaches pods by the names the sentinels hand out, as a client pod would. Returns the undo.
   */
  resolveInThisProcess(domain: string): () => void {
    const original = dns.lookup;
    const suffix = `.${domain.replace(/^\./, "")}`;
    const records = this;
    const lookup = function (hostname: string, options: unknown, callback?: unknown) {
      const cb = (typeof options === "function" ? options : callback) as (...args: unknown[]) => void;
      const opts = (typeof options === "object" && options !== null ? options : {}) as dns.LookupOptions;
      if (typeof hostname !== "string" || !hostname.replace(/\.$/, "").endsWith(suffix)) {
        return (original as (...args: unknown[]) => void).apply(dns, [hostname, options, callback].filter((a) => a !== undefined));
      }
      const address = records.lookup(hostname);
      process.nextTick(() => {
        if (!address) {
          const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND", hostname });
          cb(error);
        } else if (opts.all) {
          cb(null, [{ address, family: 4 }]);
        } else {
          cb(null, address, 4);
        }
      });
    };
    (dns as { lookup: unknown }).lookup = lookup;
    return () => {
      (dns as { lookup: unknown }).lookup = original;
    };
  }
}
