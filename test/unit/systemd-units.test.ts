import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BOOT_UNIT_NAME, renderBootUnit, renderSsmAgentUnit, renderSystemdUnits, SSM_AGENT_UNIT_NAME, UNIT_NAMES } from "../../src/render";
import { parseSpec } from "../../src/spec";

/** `systemd-analyze verify` exits 0 on unknown keys and bad values but reports them: both must be clean. */
function verify(name: string, text: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "units-"));
  try {
    fs.writeFileSync(path.join(dir, name), text);
    return spawnSync("systemd-analyze", ["verify", path.join(dir, name)], { encoding: "utf8" });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("systemd-analyze verify", () => {
  const units = renderSystemdUnits(parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } }));

  test.each([
    [UNIT_NAMES.redis, units.redis],
    [UNIT_NAMES.sentinel, units.sentinel],
    // The boot script is not on this machine: verify checks that ExecStart= exists.
    [BOOT_UNIT_NAME, renderBootUnit("/bin/true", { dataDevice: "/dev/sdf", emptyMasterWaitSeconds: 300 })],
    [SSM_AGENT_UNIT_NAME, renderSsmAgentUnit("/bin/true")],
  ])("accepts %s", (name, text) => {
    const result = verify(name, text);
    expect(result.error).toBeUndefined();
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  test("reports a misspelt key, so the test above can fail", () => {
    const result = verify("broken.service", units.redis.replace("ProtectSystem=", "ProtectSystm="));
    expect(result.stderr).toContain("Unknown key 'ProtectSystm'");
  });
});

describe("time limits", () => {
  const units = renderSystemdUnits(parseSpec({ auth: { secrets: { source: "env", prefix: "REDIS_HA_" } } }));
  const value = (text: string, key: string) => text.match(new RegExp(`^${key}=(.*)$`, "m"))?.[1];

  test("Redis may load and save a dataset of any size: no start or stop limit, as in Redis's own units", () => {
    // Type=notify: Redis reports ready once its dataset is loaded; at stop it saves it.
    expect(value(units.redis, "Type")).toBe("notify");
    expect(value(units.redis, "TimeoutStartSec")).toBe("infinity");
    expect(value(units.redis, "TimeoutStopSec")).toBe("infinity");
  });

  test("Sentinel, which holds no dataset, keeps bounded limits", () => {
    expect(value(units.sentinel, "TimeoutStartSec")).toBe("90s");
    expect(value(units.sentinel, "TimeoutStopSec")).toBe("30s");
  });

  test("systemd-analyze reports a bad limit, so the verify test above covers these values", () => {
    const bad = verify(UNIT_NAMES.redis, units.redis.replace("TimeoutStartSec=infinity", "TimeoutStartSec=forever"));
    expect(bad.stderr).toContain("TimeoutStartSec");
  });
});
