// Entry point of `cdktf synth` (cdktf.json) and `npm run synth`: writes cdktf.out/stacks/<stack>/cdk.tf.json.
import { SpecError } from "../src";
import { buildApp } from "./app";

try {
  buildApp().synth();
} catch (e) {
  console.error(e instanceof SpecError ? e.message : e);
  process.exitCode = 1;
}
