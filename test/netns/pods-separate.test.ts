import { podScenarios } from "./pod-scenarios";

// The same scenarios with `sentinels: "separate"`: Redis pods, and Sentinel pods in a StatefulSet of their own.
podScenarios({ name: "separate", subnet: "198.18.65.0/24", props: { sentinels: "separate" } });
