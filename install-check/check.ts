/**
 * `graft check`: does graft work in this cluster? Item by item, each with what was seen and, when
 * it fails, the fix — as `linkerd check` and `istioctl verify-install` do. Reads only, except the
 * injection check, which creates a Namespace of its own (deleted afterwards) and a server-side
 * dry-run Pod in it, so the pod goes through the API server's admission chain, graft included,
 * and is never stored.
 */
import { X509Certificate } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import { excerpt } from "../agent/checks/outcome.js";
import { describeRequestError, type HttpResponse, httpRequest } from "../agent/http-request.js";
import { errorMessage, isRecord } from "../core/result.js";

export type CheckResult = { name: string; ok: boolean; detail: string; fix?: string };

export type CheckOptions = {
  kubeConfig: k8s.KubeConfig;
  /** graft's namespace. */
  namespace: string;
  /** The MutatingWebhookConfiguration's name. */
  webhookConfiguration?: string;
  /** Certificates expiring within this many days fail the TLS check. */
  minDays?: number;
  now?: () => Date;
  /** How long the injection check waits for the Namespace's default ServiceAccount. */
  timeoutMs?: number;
  /** A Prometheus that should scrape every running agent (the PodMonitor's job); absent: not checked. */
  prometheusUrl?: string;
  /** How long and how many bytes that Prometheus' answer may take (default PROMETHEUS_LIMITS). */
  prometheusLimits?: PrometheusLimits;
};

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const pemOf = (b64?: string) => Buffer.from(b64 ?? "", "base64").toString();
const message = (error: unknown) =>
  error instanceof k8s.ApiException
    ? `HTTP ${error.code}: ${String(error.body).slice(0, 300)}`
    : errorMessage(error);

async function attempt(name: string, fix: string, body: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await body();
  } catch (error) {
    return { name, ok: false, detail: message(error), fix };
  }
}

export async function runChecks(options: CheckOptions): Promise<CheckResult[]> {
  const { kubeConfig: kc, namespace } = options;
  const configurationName = options.webhookConfiguration ?? "graft";
  const now = options.now ?? (() => new Date());
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
  const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const results: CheckResult[] = [];

  results.push(
    await attempt(
      "webhook Deployment available",
      `kubectl -n ${namespace} describe deployment graft-webhook`,
      async () => {
        const d = await apps.readNamespacedDeployment({ name: "graft-webhook", namespace });
        const available = d.status?.availableReplicas ?? 0;
        const wanted = d.spec?.replicas ?? 1;
        return available >= 1
          ? {
              name: "webhook Deployment available",
              ok: true,
              detail: `${available}/${wanted} replicas available`,
            }
          : {
              name: "webhook Deployment available",
              ok: false,
              detail: `0/${wanted} replicas available`,
              fix: `kubectl -n ${namespace} describe deployment graft-webhook; kubectl -n ${namespace} get pods -l app.kubernetes.io/component=webhook`,
            };
      },
    ),
  );

  results.push(
    await attempt(
      "webhook endpoints ready",
      `kubectl -n ${namespace} get endpointslices -l kubernetes.io/service-name=graft-webhook`,
      async () => {
        const slices = await discovery.listNamespacedEndpointSlice({
          namespace,
          labelSelector: "kubernetes.io/service-name=graft-webhook",
        });
        const ready = slices.items
          .flatMap((s) => s.endpoints ?? [])
          .filter((e) => e.conditions?.ready !== false);
        return ready.length > 0
          ? {
              name: "webhook endpoints ready",
              ok: true,
              detail: `${ready.length} ready endpoint(s) behind Service graft-webhook`,
            }
          : {
              name: "webhook endpoints ready",
              ok: false,
              detail: "Service graft-webhook has no ready endpoint: the API server cannot call graft",
              fix: `kubectl -n ${namespace} get pods -l app.kubernetes.io/component=webhook (not Ready?)`,
            };
      },
    ),
  );

  results.push(
    await attempt(
      "caBundle trusts the serving certificate",
      `kubectl get mutatingwebhookconfiguration ${configurationName} -o yaml`,
      async () => {
        const name = "caBundle trusts the serving certificate";
        const configuration = await admission.readMutatingWebhookConfiguration({ name: configurationName });
        const tlsSecret = await core.readNamespacedSecret({ name: "graft-webhook-tls", namespace });
        const served = new X509Certificate(pemOf(tlsSecret.data?.["tls.crt"]));
        const host = `graft-webhook.${namespace}.svc`;
        const problems: string[] = [];
        for (const webhook of configuration.webhooks ?? []) {
          const cas = pemOf(webhook.clientConfig.caBundle).match(PEM) ?? [];
          if (cas.length === 0) problems.push(`${webhook.name} has no caBundle`);
          else if (!cas.some((ca) => served.verify(new X509Certificate(ca).publicKey)))
            problems.push(
              `${webhook.name}'s caBundle did not sign the certificate in Secret graft-webhook-tls`,
            );
        }
        if (served.checkHost(host) === undefined) problems.push(`the certificate is not for ${host}`);
        const days = Math.floor((new Date(served.validTo).getTime() - now().getTime()) / 86_400_000);
        const minDays = options.minDays ?? 7;
        if (days < minDays) problems.push(`the certificate expires in ${days} day(s) (${served.validTo})`);
        return problems.length === 0
          ? {
              name,
              ok: true,
              detail: `every webhook trusts it; it expires in ${days} days (${served.validTo})`,
            }
          : {
              name,
              ok: false,
              detail: problems.join("; "),
              fix: "renew: cert-manager (kubectl -n NS describe certificate graft-webhook), helm upgrade --set tls.selfManaged.renew=true, or re-run manifests/overlays/provided-certs/install.sh",
            };
      },
    ),
  );

  results.push(
    await attempt(
      "RBAC and write policy in place",
      "re-apply the install (helm upgrade, or kubectl apply -k)",
      async () => {
        const missing: string[] = [];
        const present = async (what: string, read: () => Promise<unknown>) => {
          try {
            await read();
          } catch (error) {
            if (error instanceof k8s.ApiException && error.code === 404) missing.push(what);
            else throw error;
          }
        };
        await present("ServiceAccount graft", () =>
          core.readNamespacedServiceAccount({ name: "graft", namespace }),
        );
        for (const role of ["graft-properties", "graft-namespaces"]) {
          await present(`ClusterRole ${role}`, () => rbac.readClusterRole({ name: role }));
          await present(`ClusterRoleBinding ${role}`, () => rbac.readClusterRoleBinding({ name: role }));
        }
        await present("Role graft-platform", () =>
          rbac.readNamespacedRole({ name: "graft-platform", namespace }),
        );
        await present("ValidatingAdmissionPolicy graft-writes", () =>
          admission.readValidatingAdmissionPolicy({ name: "graft-writes" }),
        );
        await present("ValidatingAdmissionPolicyBinding graft-writes", () =>
          admission.readValidatingAdmissionPolicyBinding({ name: "graft-writes" }),
        );
        return missing.length === 0
          ? {
              name: "RBAC and write policy in place",
              ok: true,
              detail: "ServiceAccount, roles, bindings, ValidatingAdmissionPolicy graft-writes",
            }
          : {
              name: "RBAC and write policy in place",
              ok: false,
              detail: `missing: ${missing.join(", ")}`,
              fix: "re-apply the install (helm upgrade, or kubectl apply -k)",
            };
      },
    ),
  );

  results.push(
    await attempt(
      "graft-platform present",
      `kubectl -n ${namespace} get configmap graft-platform -o yaml`,
      async () => {
        const platform = await core.readNamespacedConfigMap({ name: "graft-platform", namespace });
        const keys = Object.keys(platform.data ?? {});
        const binary = Object.keys(platform.binaryData ?? {});
        return binary.length === 0
          ? { name: "graft-platform present", ok: true, detail: `${keys.length} platform variable(s)` }
          : {
              name: "graft-platform present",
              ok: false,
              detail: `binaryData keys ${binary.join(", ")} are not platform variables`,
              fix: "platform variables are text: move them to data",
            };
      },
    ),
  );

  results.push(
    await attempt(
      "opted-in namespaces",
      "kubectl label namespace NAME graft.pnda.io/inject=enabled",
      async () => {
        const list = await core.listNamespace({ labelSelector: "graft.pnda.io/inject=enabled" });
        const names = list.items
          .map((n) => n.metadata?.name ?? "")
          .filter((n) => !n.startsWith("graft-check-"));
        return {
          name: "opted-in namespaces",
          ok: true,
          detail: names.length === 0 ? "none yet (pods may still opt in with the label)" : names.join(", "),
        };
      },
    ),
  );

  results.push(await injectionCheck(core, options));

  results.push(
    await attempt(
      "webhook and agents run one image",
      "kubectl rollout restart the workloads still running the old agent",
      async () => {
        const webhookPods = await core.listNamespacedPod({
          namespace,
          labelSelector: "app.kubernetes.io/component=webhook",
        });
        const webhookImages = new Set(
          webhookPods.items.flatMap(
            (p) => p.spec?.containers.filter((c) => c.name === "webhook").map((c) => c.image) ?? [],
          ),
        );
        const all = await core.listPodForAllNamespaces({});
        const agentImages = new Map<string, number>();
        for (const pod of all.items) {
          for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
            if (c.name === "graft-agent" && c.image)
              agentImages.set(c.image, (agentImages.get(c.image) ?? 0) + 1);
          }
        }
        const skewed = [...agentImages].filter(([image]) => !webhookImages.has(image));
        return skewed.length === 0
          ? {
              name: "webhook and agents run one image",
              ok: true,
              detail: `webhook ${[...webhookImages].join(", ") || "(no pod)"}; ${[...agentImages.values()].reduce((a, b) => a + b, 0)} agent(s)`,
            }
          : {
              name: "webhook and agents run one image",
              ok: false,
              detail: `agents on other images: ${skewed.map(([image, n]) => `${n} on ${image}`).join(", ")}`,
              fix: "kubectl rollout restart the workloads still running the old agent",
            };
      },
    ),
  );
  if (options.prometheusUrl)
    results.push(
      await attempt(SCRAPED, SCRAPED_FIX, () =>
        scrapeCheck(core, options.prometheusUrl!, options.prometheusLimits ?? PROMETHEUS_LIMITS),
      ),
    );
  return results;
}

const SCRAPED = "agents scraped by Prometheus";
const SCRAPED_FIX =
  "Prometheus must select graft's PodMonitor (kubectl get podmonitor -A -l app.kubernetes.io/name=graft): " +
  "kube-prometheus-stack selects only objects labelled release=<its release> (manifests/components/monitoring-labels, " +
  "or the chart's monitoring.labels); and the agents' port must be reachable from Prometheus (NetworkPolicies)";

/** Every running pod with a graft-agent container has an `up == 1` series in Prometheus. */
async function scrapeCheck(
  core: k8s.CoreV1Api,
  prometheusUrl: string,
  limits: PrometheusLimits,
): Promise<CheckResult> {
  const pods = await core.listPodForAllNamespaces({ fieldSelector: "status.phase=Running" });
  const agents = pods.items
    .filter((pod) =>
      [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].some(
        (c) => c.name === "graft-agent",
      ),
    )
    .map((pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`);
  const up = await agentsUp(prometheusUrl, limits);
  const missing = agents.filter((agent) => !up.has(agent));
  if (missing.length === 0)
    return {
      name: SCRAPED,
      ok: true,
      detail: `${agents.length}/${agents.length} running agents up in Prometheus`,
    };
  const shown =
    missing.slice(0, 5).join(", ") + (missing.length > 5 ? `, and ${missing.length - 5} more` : "");
  return {
    name: SCRAPED,
    ok: false,
    detail: `${agents.length - missing.length}/${agents.length} running agents up in Prometheus; not scraped: ${shown}`,
    fix: SCRAPED_FIX,
  };
}

export type PrometheusLimits = {
  /** For the whole answer, body included: a server that stops sending fails the item then. */
  timeoutMs: number;
  /** The most bytes of body read; more (announced or streamed) fails the item, naming the cap. */
  maxBytes: number;
};

/**
 * `up{container="graft-agent"}` is a few hundred bytes a series: 16 MiB is ~50,000 agents, and
 * a reply larger than that is not from a Prometheus answering this query.
 */
export const PROMETHEUS_LIMITS: PrometheusLimits = { timeoutMs: 10_000, maxBytes: 16 * 1024 * 1024 };

/**
 * The agents (`namespace/pod`) Prometheus sees up, read with the agent's capped reader
 * (agent/http-request.ts): bounded in bytes and, body included, in time. Anything else — refused,
 * silent, too large, not JSON, not a query result — throws an error saying which.
 */
export async function agentsUp(prometheusUrl: string, limits: PrometheusLimits): Promise<Set<string>> {
  const url = new URL("api/v1/query", prometheusUrl.endsWith("/") ? prometheusUrl : `${prometheusUrl}/`);
  url.searchParams.set("query", 'up{container="graft-agent"}');
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let response: HttpResponse;
  try {
    response = await httpRequest(url.href, {
      signal,
      headers: { accept: "application/json" },
      maxBodyBytes: limits.maxBytes,
    });
  } catch (error) {
    const why = signal.aborted
      ? `no whole answer within ${limits.timeoutMs / 1000}s`
      : describeRequestError(error, signal);
    throw new Error(`Prometheus at ${prometheusUrl} could not be queried: ${why}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    body = undefined;
  }
  const series =
    isRecord(body) && isRecord(body.data) && Array.isArray(body.data.result) ? body.data.result : undefined;
  if (response.status !== 200 || !series)
    throw new Error(
      `Prometheus at ${prometheusUrl} answered HTTP ${response.status} without a query result: ${excerpt(response.body)}`,
    );
  return new Set(
    series.flatMap((one: unknown) => {
      if (!isRecord(one) || !isRecord(one.metric) || !Array.isArray(one.value) || one.value[1] !== "1")
        return [];
      return [`${one.metric.namespace}/${one.metric.pod}`];
    }),
  );
}

/** A server-side dry-run pod in a namespace of its own, labelled inject=enabled, comes back injected. */
async function injectionCheck(core: k8s.CoreV1Api, options: CheckOptions): Promise<CheckResult> {
  const name = "a dry-run pod in an opted-in namespace is injected";
  const fix = `kubectl -n ${options.namespace} logs -l app.kubernetes.io/component=webhook; check the API server can reach graft-webhook (docs/helm.md, firewalled control planes)`;
  const namespace = `graft-check-${Math.random().toString(36).slice(2, 8)}`;
  try {
    await core.createNamespace({
      body: { metadata: { name: namespace, labels: { "graft.pnda.io/inject": "enabled" } } },
    });
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      try {
        await core.readNamespacedServiceAccount({ name: "default", namespace });
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    const pod = await core.createNamespacedPod({
      namespace,
      dryRun: "All",
      body: {
        // A check, so graft injects an agent (a pod without checks gets none).
        metadata: {
          name: "graft-check",
          annotations: {
            "graft.pnda.io/checks": "[{name: graft-check, type: tcp, host: 127.0.0.1, port: 9}]",
          },
        },
        spec: { containers: [{ name: "main", image: "registry.invalid/graft-check:1" }] },
      },
    });
    const injected = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].some(
      (c) => c.name === "graft-agent",
    );
    return injected
      ? { name, ok: true, detail: "graft-agent injected (through the API server's admission)" }
      : { name, ok: false, detail: "admitted without graft-agent: graft did not inject it", fix };
  } catch (error) {
    return { name, ok: false, detail: message(error), fix };
  } finally {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  }
}
