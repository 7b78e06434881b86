import { podScenarios } from "./pod-scenarios";

// The Kubernetes render with Sentinel sidecars (the default), its pods run as the kubelet runs them (see
// src/local/kubelet.ts): fresh starts in several orders, an init container run again, a crash of the master's Redis,
// the master pod deleted and recreated with its volume, a rolling update under a writer, the master's volume lost.
podScenarios({ name: "sidecar", subnet: "198.18.64.0/24", props: {} });
