/**
 * Cluster access through @kubernetes/client-node, for `graft console` and `graft check`. The webhook
 * has its own small client (webhook/io/kube/access.ts), so that it never loads client-node.
 */
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
