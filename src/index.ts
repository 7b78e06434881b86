// The public API of cdktf-redis-sentinel.
export * from "./spec";
export * from "./render";
export * from "./local";
export * from "./ops";
