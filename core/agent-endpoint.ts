/**
 * Where an injected agent serves: the webhook renders the port (this default, the config's
 * `agent.port` or the pod's `graft.pnda.io/agent-port`) under AGENT_PORT_NAME on the graft-agent
 * container; the PodMonitor (manifests/monitoring), the probes and the console find it by that
 * name, so they follow whichever port it is.
 */
export const AGENT_PORT = 9464;
/** Ports graft-agent may listen on: it runs without privileges, so none below 1024. */
export const AGENT_PORT_MIN = 1024;
export const AGENT_PORT_MAX = 65_535;
export const AGENT_PORT_NAME = "graft-metrics";
