import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Makes a test CA and one certificate signed by it, valid for `addresses` (IP subject alternative names), with
 * openssl, into `dir` as tls.crt, tls.key and ca.crt: the names the cluster reads. Test material only.
 */
export function makeCertificates(dir: string, addresses: readonly string[]): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=redis-ha test CA",
    "-keyout", file("ca.key"), "-out", file("ca.crt"));
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=redis-ha test node", "-keyout", file("tls.key"), "-out", file("tls.csr"));
  fs.writeFileSync(file("san.cnf"), `subjectAltName=${addresses.map((a) => `IP:${a}`).join(",")}\n`);
  openssl("x509", "-req", "-in", file("tls.csr"), "-CA", file("ca.crt"), "-CAkey", file("ca.key"), "-CAcreateserial",
    "-days", "2", "-extfile", file("san.cnf"), "-out", file("tls.crt"));
  for (const name of ["ca.key", "tls.csr", "san.cnf", "ca.srl"]) fs.rmSync(file(name), { force: true });
  return dir;
}
