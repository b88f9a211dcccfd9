#!/bin/bash
# The entrypoint spark-submit's Kubernetes backend expects of its image, written for
# graft.local/spark:1 (Spark's own images ship one; PyPI's pyspark does not). Spark runs the
# image with arguments:
#   driver ARGS...    the driver pod: spark-submit in client mode inside the pod, bound to the
#                     pod's address (SPARK_DRIVER_BIND_ADDRESS), ARGS being spark-submit's
#                     (--properties-file, --class, the app and its arguments)
#   executor          an executor pod: the executor backend, configured by the SPARK_* variables
#                     the driver sets on the pod (driver URL, id, cores, memory, app id, ...)
#   anything else     run as given
set -euo pipefail

: "${SPARK_HOME:?SPARK_HOME must be set by the image}"
classpath="${SPARK_CONF_DIR:-$SPARK_HOME/conf}:$SPARK_HOME/jars/*"
if [ -n "${SPARK_EXTRA_CLASSPATH:-}" ]; then classpath="$classpath:$SPARK_EXTRA_CLASSPATH"; fi

# The executor's JVM options arrive as SPARK_JAVA_OPT_0, SPARK_JAVA_OPT_1, ... in that order.
java_opts=()
i=0
while :; do
  var="SPARK_JAVA_OPT_$i"
  [ -n "${!var+set}" ] || break
  java_opts+=("${!var}")
  i=$((i + 1))
done

case "${1:-}" in
  driver)
    shift
    set -- "$SPARK_HOME/bin/spark-submit" \
      --conf "spark.driver.bindAddress=${SPARK_DRIVER_BIND_ADDRESS:?}" \
      --deploy-mode client "$@"
    ;;
  executor)
    shift
    set -- "$JAVA_HOME/bin/java" "${java_opts[@]}" \
      "-Xms${SPARK_EXECUTOR_MEMORY:?}" "-Xmx${SPARK_EXECUTOR_MEMORY}" \
      -cp "$classpath" \
      org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend \
      --driver-url "${SPARK_DRIVER_URL:?}" \
      --executor-id "${SPARK_EXECUTOR_ID:?}" \
      --cores "${SPARK_EXECUTOR_CORES:?}" \
      --app-id "${SPARK_APPLICATION_ID:?}" \
      --hostname "${SPARK_EXECUTOR_POD_IP:?}" \
      --resourceProfileId "${SPARK_RESOURCE_PROFILE_ID:-0}" \
      --podName "${SPARK_EXECUTOR_POD_NAME:?}"
    ;;
esac

# tini reaps the JVM's children (Python workers) and passes signals on.
exec /usr/bin/tini -s -- "$@"
