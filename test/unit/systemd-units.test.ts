import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BOOT_UNIT_NAME, renderBootUnit, renderSystemdUnits, UNIT_NAMES } from "../../src/render";
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
    [BOOT_UNIT_NAME, renderBootUnit("/bin/true", "/dev/sdf")],
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
