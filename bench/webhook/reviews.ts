/** Realistic AdmissionReviews for the webhook benchmark: what the API server sends for real pods. */
import { randomUUID } from "node:crypto";
import { admissionReview } from "../../webhook/testdata/review.js";

type Pod = Record<string, unknown>;

function review(pod: Pod, namespace: string): Record<string, unknown> {
  return admissionReview({
    uid: randomUUID(),
    namespace,
    object: pod,
    oldObject: null,
    dryRun: false,
    extra: {
      requestKind: { group: "", version: "v1", kind: "Pod" },
      requestResource: { group: "", version: "v1", resource: "pods" },
      userInfo: {
        username: "system:serviceaccount:kube-system:replicaset-controller",
        groups: ["system:serviceaccounts"],
      },
      options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
    },
  });
}

const managedFields = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    manager: `controller-${i}`,
    operation: "Update",
    apiVersion: "v1",
    time: "2026-11-22T08:00:00Z",
    fieldsType: "FieldsV1",
    fieldsV1: { "f:metadata": { "f:labels": { ".": {}, [`f:label-${i}`]: {} } } },
  }));

function env(count: number, prefix: string) {
  return Array.from({ length: count }, (_, i) => ({
    name: `${prefix}_${i}`,
    value: `value-${i}-`.repeat(3),
  }));
}

function container(name: string, envCount: number) {
  return {
    name,
    image: `registry.example/${name}:1.0.0`,
    args: ["--config", "/etc/app/config.yaml"],
    env: env(envCount, name.toUpperCase().replaceAll("-", "_")),
    ports: [{ containerPort: 8080, name: "http", protocol: "TCP" }],
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    volumeMounts: [{ name: "data", mountPath: "/data" }],
    terminationMessagePath: "/dev/termination-log",
    terminationMessagePolicy: "File",
    imagePullPolicy: "IfNotPresent",
  };
}

function replicaSetPod(name: string, annotations: Record<string, string>, containers: unknown[]): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: `${name}-7d9f8b6c5-`,
      labels: { "app.kubernetes.io/name": name, "pod-template-hash": "7d9f8b6c5" },
      annotations,
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: `${name}-7d9f8b6c5`,
          uid: randomUUID(),
          controller: true,
        },
      ],
      managedFields: managedFields(2),
    },
    spec: {
      containers,
      volumes: [{ name: "data", emptyDir: {} }],
      restartPolicy: "Always",
      serviceAccountName: "default",
      dnsPolicy: "ClusterFirst",
    },
  };
}

/** A PNDA Spark streaming driver: properties, agent with two checks. */
export function sparkDriverReview() {
  return review(
    replicaSetPod(
      "wordcount",
      {
        "graft.pnda.io/component-type": "sparkStreaming",
        "graft.pnda.io/app": "streaming-demo",
        "graft.pnda.io/checks":
          '[{"name":"kafka","type":"kafka","brokers":["kafka-0.kafka:9092"]},{"name":"zk","type":"zookeeper","servers":["zookeeper:2181"]}]',
      },
      [container("driver", 25)],
    ),
    "streaming",
  );
}

/** A JupyterHub single-user pod as KubeSpawner makes it: notebook sync and the agent. */
export function jupyterReview() {
  const pod = replicaSetPod(
    "jupyter-alice",
    { "hub.jupyter.org/username": "alice", "graft.pnda.io/component-type": "jupyter" },
    [container("notebook", 20)],
  );
  const metadata = pod.metadata as Record<string, unknown>;
  delete metadata.generateName;
  delete metadata.ownerReferences;
  metadata.name = "jupyter-alice";
  metadata.labels = {
    "hub.jupyter.org/username": "alice",
    component: "singleuser-server",
    "graft.pnda.io/inject": "enabled",
  };
  return review(pod, "jhub");
}

/**
 * A checks annotation of 64 checks (the most a spec holds) of the common types, `seq` in every
 * check's name and target: each `seq` is text no memo has seen.
 */
export function sixtyFourChecks(seq: number): string {
  const checks = Array.from({ length: 64 }, (_, i) => {
    const name = `c${i}-${seq}`;
    switch (i % 6) {
      case 0:
        return { name, type: "http", url: `http://svc-${seq}-${i}.apps:8080/healthz`, expectStatus: [200] };
      case 1:
        return { name, type: "tcp", host: `db-${seq}-${i}.apps`, port: 5432, interval: "10s", timeout: "2s" };
      case 2:
        return { name, type: "kafka", brokers: [`kafka-0.kafka-${seq}:9092`, `kafka-1.kafka-${seq}:9092`] };
      case 3:
        return { name, type: "zookeeper", servers: [`zookeeper-${seq}:2181`] };
      case 4:
        return { name, type: "dns", hostname: `api-${seq}-${i}.apps.svc`, recordType: "A" };
      default:
        return { name, type: "spark", url: `http://driver-${seq}:4040`, mode: "streaming", source: "spark" };
    }
  });
  return JSON.stringify(checks);
}

/** One ReplicaSet for every 64-check review: a new owner would be a new object for graft to record. */
const SIXTY_FOUR_OWNER = randomUUID();

/**
 * The Spark driver with a 64-check annotation given as `checks` (sixtyFourChecks), from the same
 * ReplicaSet each time: only the annotation differs from one review to the next.
 */
export function sixtyFourChecksReview(checks: string) {
  const pod = replicaSetPod(
    "wordcount",
    {
      "graft.pnda.io/component-type": "sparkStreaming",
      "graft.pnda.io/app": "streaming-demo",
      "graft.pnda.io/checks": checks,
    },
    [container("driver", 25)],
  );
  const [owner] = (pod.metadata as { ownerReferences: { uid: string }[] }).ownerReferences;
  owner!.uid = SIXTY_FOUR_OWNER;
  return review(pod, "streaming");
}

/** A large pod: `containers` containers, the first with `envVars` environment variables. */
export function bigPodReview(containers = 20, envVars = 300) {
  return review(
    replicaSetPod(
      "big",
      { "graft.pnda.io/component-type": "generic", "graft.pnda.io/app": "big" },
      Array.from({ length: containers }, (_, i) => container(`c${i}`, i === 0 ? envVars : 15)),
    ),
    "apps",
  );
}

/** The platform variables a PNDA cluster would have in graft-platform. */
export const PLATFORM = new Map(
  Object.entries({
    kafka_brokers: "kafka-0.kafka:9092,kafka-1.kafka:9092",
    kafka_zookeeper: "zookeeper:2181",
    zookeeper_quorum: "zookeeper",
    zookeeper_port: "2181",
    name_node: "hdfs://namenode:8020",
    webhdfs_host: "namenode",
    webhdfs_port: "9870",
    opentsdb: "opentsdb:4242",
    jupyter_host: "jupyterhub",
    flink_history_server: "flink-history:8082",
  }),
);
