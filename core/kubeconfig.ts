/** Cluster access for the parts that talk to the API server (`graft webhook`, `graft console`). */
import { KubeConfig } from "@kubernetes/client-node";
import { errorMessage } from "./result.js";

/**
 * The kubeconfig in `file`, or else the default (in-cluster, then KUBECONFIG / ~/.kube/config).
 * A file that cannot be used throws a message naming it.
 */
export function loadKubeConfig(file: string | undefined): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (!file) {
    kubeConfig.loadFromDefault();
    return kubeConfig;
  }
  try {
    kubeConfig.loadFromFile(file);
  } catch (error) {
    throw new Error(`--kubeconfig ${file} is not a usable kubeconfig (${errorMessage(error)})`);
  }
  return kubeConfig;
}
