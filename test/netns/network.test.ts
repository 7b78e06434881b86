import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { TestNetwork } from "../../src/local";

// The test network itself: hosts reach each other and the controller, partitions drop packets silently (a
// connection times out rather than being refused), heal restores them, and destroy leaves no namespace behind.
jest.setTimeout(60_000);

let net: TestNetwork;
beforeAll(() => {
  net = TestNetwork.create({ name: "net", subnet: "198.18.40.0/24" });
  net.addHost("a", "198.18.40.11");
  net.addHost("b", "198.18.40.12");
});
afterAll(() => net?.destroy());

/** Exit code of a TCP connect from host `from` to `address`:`port`, with a 2 s limit (124: timed out). */
function connect(from: string | undefined, address: string, port: number): number | null {
  const probe = ["timeout", "2", "bash", "-c", `exec 3<>/dev/tcp/${address}/${port}`];
  const argv = from ? net.exec(from, probe) : probe;
  return spawnSync(argv[0], argv.slice(1)).status;
}

test("hosts reach each other, and the controller reaches every host", () => {
  // Nothing listens on port 9: a reachable host answers with a reset at once (exit 1), a cut one never answers.
  expect(connect("a", "198.18.40.12", 9)).toBe(1);
  expect(connect("b", "198.18.40.11", 9)).toBe(1);
  expect(connect(undefined, "198.18.40.11", 9)).toBe(1);
});

test("a partition drops packets between groups silently; the controller stays connected; heal ends it", () => {
  net.partition([["a"], ["b"]]);
  expect(connect("a", "198.18.40.12", 9)).toBe(124);
  expect(connect("b", "198.18.40.11", 9)).toBe(124);
  expect(connect(undefined, "198.18.40.12", 9)).toBe(1);
  net.heal();
  expect(connect("a", "198.18.40.12", 9)).toBe(1);
});

test("a one-way drop loses the packets of one direction only", () => {
  net.drop("a", "b");
  expect(connect("a", "198.18.40.12", 9)).toBe(124);
  net.heal();
});

test("the controller can be left on one side", () => {
  net.partition([["a"], ["b"]], { controllerWith: 0 });
  expect(connect(undefined, "198.18.40.11", 9)).toBe(1);
  expect(connect(undefined, "198.18.40.12", 9)).toBe(124);
  net.heal();
});

test("refuses addresses outside 198.18.0.0/15 and outside its subnet", () => {
  expect(() => TestNetwork.create({ name: "bad", subnet: "10.0.0.0/24" })).toThrow(/inside 198\.18\.0\.0\/15/);
  expect(() => net.addHost("c", "198.18.41.11")).toThrow(/not an address of test network 198\.18\.40\.0\/24/);
});

test("destroy deletes every namespace it made", () => {
  const other = TestNetwork.create({ name: "gone", subnet: "198.18.41.0/24" });
  other.addHost("x", "198.18.41.11");
  const ours = () => fs.readdirSync("/run/netns").filter((ns) => ns.startsWith(`rha${process.pid}-gone-`));
  expect(ours()).toHaveLength(2);
  other.destroy();
  expect(ours()).toEqual([]);
});

test("a kernel parameter set on one host stays in that host's namespace", () => {
  const key = "net.ipv4.tcp_syn_retries";
  const onMachine = () => fs.readFileSync("/proc/sys/net/ipv4/tcp_syn_retries", "utf8").trim();
  const machine = onMachine();
  const other = net.sysctlValue("b", key);
  net.sysctl("a", key, 3);
  expect(net.sysctlValue("a", key)).toBe("3");
  expect(net.sysctlValue("b", key)).toBe(other);
  expect(onMachine()).toBe(machine);
  expect(() => net.sysctl("a", "kernel.panic", 1)).toThrow(/only per-namespace parameters \(net\.\*\)/);
});
