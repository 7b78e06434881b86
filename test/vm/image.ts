import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** Where the VM test keeps what it builds and downloads between runs (ignored by git). */
export const VM_CACHE = path.resolve(__dirname, "../../.vm");

function run(argv: readonly string[], what: string, timeoutMs = 60_000): void {
  const result = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (result.error || result.status !== 0) {
    throw new Error(`${what}: ${argv.join(" ")} failed: ${result.error?.message ?? ""}${result.stderr ?? ""}`);
  }
}

/** The test's certificate authority, made once: the image trusts it, the test's SSM endpoint is signed by it. */
export interface TestCa {
  readonly cert: string;
  readonly key: string;
}

export function testCa(): TestCa {
  const dir = path.join(VM_CACHE, "ca");
  const ca = { cert: path.join(dir, "ca.crt"), key: path.join(dir, "ca.key") };
  if (!fs.existsSync(ca.cert) || !fs.existsSync(ca.key)) {
    fs.mkdirSync(dir, { recursive: true });
    run(
      ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca.key, "-out", ca.cert, "-days", "3650", "-subj", "/CN=redis-ha VM test CA"],
      "the test CA",
    );
  }
  return ca;
}

/** A server certificate for `hostnames` (all in its subjectAltName), signed by the test CA (made once per set). */
export function serverCertificate(ca: TestCa, hostnames: readonly string[]): { readonly cert: string; readonly key: string } {
  const dir = path.join(VM_CACHE, "ca");
  const name = hostnames.join("+");
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  if (!fs.existsSync(cert) || !fs.existsSync(key)) {
    const csr = path.join(dir, `${name}.csr`);
    const ext = path.join(dir, `${name}.ext`);
    fs.writeFileSync(ext, `subjectAltName=${hostnames.map((h) => `DNS:${h}`).join(",")}\nextendedKeyUsage=serverAuth\n`);
    run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", `/CN=${hostnames[0]}`], "a server key");
    run(
      ["openssl", "x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial", "-out", cert, "-days", "3650", "-extfile", ext],
      "a server certificate",
    );
  }
  return { cert: fs.readFileSync(cert, "utf8"), key: fs.readFileSync(key, "utf8") };
}

/** The test image: a raw ext4 root file system and the kernel and initrd QEMU boots directly. */
export interface TestImage {
  readonly root: string;
  readonly kernel: string;
  readonly initrd: string;
  /** Whether this run built it (false: taken from the cache). */
  readonly built: boolean;
  readonly buildMs: number;
}

const BUILD_SCRIPT = path.join(__dirname, "build-image.sh");

/**
 * The image for `region`, built by build-image.sh from Debian 12's packages when the cache holds none for this
 * script, CA and region.
 */
export function testImage(ca: TestCa, region: string): TestImage {
  const key = createHash("sha256")
    .update(fs.readFileSync(BUILD_SCRIPT))
    .update(fs.readFileSync(ca.cert))
    .update(region)
    .digest("hex")
    .slice(0, 12);
  const dir = path.join(VM_CACHE, `image-${key}`);
  const image = (built: boolean, buildMs: number): TestImage => ({
    root: path.join(dir, "root.raw"),
    kernel: path.join(dir, "vmlinuz"),
    initrd: path.join(dir, "initrd.img"),
    built,
    buildMs,
  });
  if (fs.existsSync(path.join(dir, "root.raw"))) return image(false, 0);
  const started = Date.now();
  run([BUILD_SCRIPT, dir, ca.cert, region], "building the test image", 30 * 60_000);
  return image(true, Date.now() - started);
}
