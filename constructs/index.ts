// The package's entry point (`import { Ec2RedisSentinel } from "cdktf-redis-sentinel"`): both constructs, the spec
// and the renderers. The local cluster and the operations (`cdktf-redis-sentinel/local`, `/ops`) have their own
// entry points, so that importing a construct never loads a Redis client. Inside this repository, code imports
// "../src/spec", "../src/render" or the construct's own file, so that loading the renderers never loads cdktf.
export * from "../src/spec";
export * from "../src/render";
export * from "./ec2-redis-sentinel";
export * from "./kubernetes-redis-sentinel";
