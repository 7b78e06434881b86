// Entry point of `cdktf synth` (cdktf.json) and `npm run synth`: writes cdktf.out/stacks/<stack>/cdk.tf.json, and
// says what it wrote.
import * as fs from "node:fs";
import * as path from "node:path";
import { TerraformStack } from "cdktf";
import { SpecError } from "../src/spec";
import { buildApp } from "./app";

try {
  const app = buildApp();
  app.synth();
  const stacks = app.node.children.filter((c): c is TerraformStack => c instanceof TerraformStack);
  for (const stack of stacks) {
    const file = path.join(app.outdir, "stacks", stack.node.id, "cdk.tf.json");
    const resources = Object.values((JSON.parse(fs.readFileSync(file, "utf8")).resource ?? {}) as Record<string, object>);
    const count = resources.reduce((n, byName) => n + Object.keys(byName).length, 0);
    console.log(`wrote ${path.relative(process.cwd(), file)}: ${count} resources`);
  }
} catch (e) {
  console.error(e instanceof SpecError ? e.message : e);
  process.exitCode = 1;
}
