// The package's entry point (`import { Ec2RedisSentinel } from "cdktf-redis-sentinel"`): both constructs, plus
// the public API of src/ (spec, renderers, local cluster helpers). Inside this repository, code imports
// "../src" or the construct's own file, so that loading the renderers never loads cdktf or a provider.
export * from "../src";
export * from "./ec2-redis-sentinel";
export * from "./kubernetes-redis-sentinel";
