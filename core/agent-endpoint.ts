/**
 * Where an injected agent serves: the webhook renders this port on the graft-agent container, the
 * PodMonitor (manifests/monitoring) scrapes ports of this name, and the console finds agents by it.
 */
export const AGENT_PORT = 9464;
export const AGENT_PORT_NAME = "graft-metrics";
