// One synthesis for `npm run bench`, in a process of its own so that its peak RSS is its own:
//   synth-child.ts examples OUTDIR      the example stacks (stacks/app.ts)
//   synth-child.ts bare COUNTS OUTDIR   the bare cdktf app with the stacks and resource counts in the JSON file COUNTS
//   synth-child.ts clusters N OUTDIR    N EC2 clusters, one Ec2RedisSentinelStack each
// Prints one JSON line: { synthMs } (building the constructs and synth(), after every module is loaded), { maxRssKb }.
import { App } from "cdktf";
import * as fs from "node:fs";
import { buildApp } from "../../stacks/app";
import { buildBareApp } from "./bare-app";
import { benchEnvironments } from "./environments";

const [mode, arg, outdir = arg] = process.argv.slice(2);
const started = process.hrtime.bigint();
const app = new App({ outdir });
if (mode === "examples") buildApp(undefined, app);
else if (mode === "bare") buildBareApp(JSON.parse(fs.readFileSync(arg, "utf8")), app);
else if (mode === "clusters") buildApp(benchEnvironments(Number(arg)), app, []);
else throw new Error(`unknown mode ${mode}: examples, bare or clusters`);
app.synth();
const synthMs = Number(process.hrtime.bigint() - started) / 1e6;
console.log(JSON.stringify({ synthMs, maxRssKb: process.resourceUsage().maxRSS }));
