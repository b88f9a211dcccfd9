#!/usr/bin/env bash
# Local Kubernetes control plane for graft's tests, built from the upstream Go modules pinned in
# go.mod: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok (a fake, always
# Ready Node whose Pods reach Running without containers), on 127.0.0.1 with free ports.
#
#   cluster.sh build          build the binaries (cached, keyed on go.mod/go.sum/cmd sources)
#   cluster.sh up             build if needed, start everything, wait until usable
#   cluster.sh down           stop everything `up` started
#   cluster.sh status         exit 0 when the cluster is up and healthy
#   cluster.sh kubectl ARGS   the built kubectl against the cluster
#   cluster.sh env            print `export KUBECONFIG=...` and the bin dir
#   cluster.sh node-check     exit 0 when this machine can run the real node, else say why
#   cluster.sh node-deps      install the real node's Debian packages (apt-get)
#   cluster.sh ctr ARGS       the real node's containerd client (ctr -n k8s.io ...)
#
# Real-node mode (`GRAFT_CLUSTER_NODE=real` or `--real-node`): instead of kwok, a real kubelet
# with Debian's containerd + runc, a CNI bridge, kube-proxy and CoreDNS; needs root (node.sh).
#
# Environment: GRAFT_CACHE_DIR (default ~/.cache/graft), GRAFT_CLUSTER_DIR (state: certs, pids,
# logs, kubeconfig; default test/cluster/.state, or .state-node for the real node),
# GRAFT_CLUSTER_TIMEOUT (seconds, default 120), GRAFT_CLUSTER_NODE (kwok or real).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NODE_MODE="${GRAFT_CLUSTER_NODE:-kwok}"
ARGS=()
for arg in "$@"; do
	if [[ "${arg}" == "--real-node" ]]; then NODE_MODE=real; else ARGS+=("${arg}"); fi
done
set -- "${ARGS[@]+"${ARGS[@]}"}"
CACHE_ROOT="${GRAFT_CACHE_DIR:-${HOME}/.cache/graft}/cluster"
TIMEOUT="${GRAFT_CLUSTER_TIMEOUT:-120}"
SERVICE_CIDR="10.96.0.0/16"
case "${NODE_MODE}" in
kwok)
	STATE="${GRAFT_CLUSTER_DIR:-${HERE}/.state}"
	NODE_NAME="kwok-node-0"
	POD_CIDR="10.244.0.1/16"
	COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
	;;
real)
	STATE="${GRAFT_CLUSTER_DIR:-${HERE}/.state-node}"
	NODE_NAME="graft-node-0"
	COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy)
	;;
*) echo "[cluster] error: GRAFT_CLUSTER_NODE must be kwok or real, not '${NODE_MODE}'" >&2; exit 2 ;;
esac
# Programs that run inside the real node's images, not on the host: built static (no cgo).
IMAGE_CMDS=(pause testbox)
# Controller names as in k8s.io/kubernetes/cmd/kube-controller-manager/names.
CONTROLLERS=(
	deployment-controller replicaset-controller statefulset-controller daemonset-controller
	job-controller cronjob-controller ttl-after-finished-controller garbage-collector-controller
	namespace-controller serviceaccount-controller serviceaccount-token-controller
	root-ca-certificate-publisher-controller clusterrole-aggregation-controller
	endpoints-controller endpointslice-controller replicationcontroller-controller
	resourcequota-controller pod-garbage-collector-controller disruption-controller
	node-lifecycle-controller # lifts the node.kubernetes.io/not-ready taint admission puts on new Nodes
)
# Changing how binaries are built must change the cache key.
BUILD_RECIPE="v2 -trimpath -s -w; images: CGO_ENABLED=0, oci-archive v1"

export PATH="${PATH}:/usr/local/go/bin"
export GOTOOLCHAIN=local GOFLAGS="-mod=mod"
# Webhook calls to https://127.0.0.1:PORT must never go through a proxy; nor, for the real node,
# anything on its bridge (the API server, the kubelet, pods) or its Services.
no_proxy_local="127.0.0.1,localhost"
[[ "${NODE_MODE}" == real ]] && no_proxy_local+=",10.213.0.0/16,${SERVICE_CIDR}"
export NO_PROXY="${no_proxy_local}${NO_PROXY:+,${NO_PROXY}}" no_proxy="${no_proxy_local}${no_proxy:+,${no_proxy}}"

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

k8s_version() { awk '$1=="k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "${HERE}/go.mod"; }

cache_key() {
	{
		echo "${BUILD_RECIPE}"
		go version
		cd "${HERE}"
		sha256sum go.mod go.sum coredns/go.mod coredns/go.sum
		find cmd coredns images.sh -type f \( -name '*.go' -o -name '*.sh' \) | LC_ALL=C sort | xargs sha256sum
	} | sha256sum | cut -c1-16
}

bin_dir() { # computed once (below): hashing the sources takes a while
	[[ -n "${BIN_DIR:-}" ]] || BIN_DIR="${CACHE_ROOT}/$(cache_key)/bin"
	echo "${BIN_DIR}"
}
BIN_DIR=""
if command -v go >/dev/null; then BIN_DIR="$(bin_dir)"; fi

cmd_build() {
	command -v go >/dev/null || die "go not found (expected in PATH or /usr/local/go/bin)"
	local bin; bin="$(bin_dir)"
	[[ -f "${bin}/.complete" ]] && { log "binaries up to date: ${bin}"; return 0; }
	mkdir -p "${CACHE_ROOT}"
	exec 8>"${CACHE_ROOT}/.build.lock"
	flock 8 # one build at a time; a waiter finds the result
	if [[ -f "${bin}/.complete" ]]; then
		exec 8>&-
		log "binaries up to date: ${bin}"
		return 0
	fi
	local version; version="$(k8s_version)"
	[[ -n "${version}" ]] || die "no k8s.io/kubernetes version in go.mod"
	local major minor
	major="${version#v}"; major="${major%%.*}"
	minor="${version#v*.}"; minor="${minor%%.*}"
	local ld="-s -w" pkg
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ld+=" -X ${pkg}.gitVersion=${version} -X ${pkg}.gitMajor=${major} -X ${pkg}.gitMinor=${minor}"
		ld+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
	done
	local tmp="${bin}.tmp.$$" buildlog="${bin%/bin}/build.log"
	mkdir -p "${tmp}"
	log "building k8s ${version} components (kubelet, kube-proxy too) + etcd + kwok + CoreDNS into ${bin}"
	log "(cold: 10-25 min on 2 cores; log: ${buildlog})"
	local start; start="$(now)"
	local host_pkgs=() p
	for p in "${HERE}"/cmd/*/; do
		p="$(basename "${p}")"
		[[ " ${IMAGE_CMDS[*]} " == *" ${p} "* ]] || host_pkgs+=("./cmd/${p}")
	done
	(
		cd "${HERE}"
		go mod download
		go build -v -trimpath -ldflags "${ld}" -o "${tmp}/" "${host_pkgs[@]}"
	) >"${buildlog}" 2>&1 &
	local pid=$!
	# The real node's images (pause, testbox, CoreDNS from its own module) build beside it: the
	# big build is link-bound at the end, so this second build fills the idle core.
	(
		cd "${HERE}"
		mkdir -p "${tmp}/images"
		for p in "${IMAGE_CMDS[@]}"; do
			CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${tmp}/images/${p}" "./cmd/${p}"
		done
		cd coredns
		go mod download
		CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${tmp}/images/coredns" .
		bash "${HERE}/images.sh" "${tmp}/images"
	) >"${buildlog}.images" 2>&1 &
	local images_pid=$!
	while kill -0 "${pid}" 2>/dev/null; do
		sleep 15 &
		wait $! || true
		kill -0 "${pid}" 2>/dev/null && log "  building... $(since "${start}")s, $(grep -c . "${buildlog}" || true) packages"
	done
	if ! wait "${pid}"; then
		exec 8>&-
		tail -n 30 "${buildlog}" >&2
		wait "${images_pid}" || true
		rm -rf "${tmp}"
		die "build failed (see ${buildlog})"
	fi
	if ! wait "${images_pid}"; then
		exec 8>&-
		tail -n 30 "${buildlog}.images" >&2
		rm -rf "${tmp}"
		die "building the real node's images failed (see ${buildlog}.images)"
	fi
	local c
	for c in etcd kube-apiserver kube-controller-manager kube-scheduler kwok kubectl kubelet kube-proxy; do
		[[ -x "${tmp}/${c}" ]] || die "build produced no ${c}"
	done
	for c in pause testbox coredns; do [[ -f "${tmp}/images/${c}.tar" ]] || die "build produced no image ${c}"; done
	touch "${tmp}/.complete"
	rm -rf "${bin}"
	mv "${tmp}" "${bin}"
	exec 8>&-
	log "built in $(since "${start}")s: ${bin}"
}

# --- state --------------------------------------------------------------------------------

kubeconfig() { echo "${STATE}/kubeconfig"; }

kctl() { "$(bin_dir)/kubectl" --kubeconfig "$(kubeconfig)" "$@"; }

# pid_alive NAME: the pid recorded for NAME runs our binary for NAME.
pid_alive() {
	local f="${STATE}/pids/$1" pid
	[[ -f "${f}" ]] || return 1
	pid="$(<"${f}")"
	[[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null || return 1
	local argv0; argv0="$(tr '\0' '\n' <"/proc/${pid}/cmdline" 2>/dev/null | head -n 1)"
	[[ "${argv0##*/}" == "$1" ]]
}

healthy() {
	[[ -f "$(kubeconfig)" && -x "$(bin_dir)/kubectl" ]] || return 1
	local c
	for c in "${COMPONENTS[@]}"; do pid_alive "${c}" || return 1; done
	[[ "$(kctl get --raw /readyz --request-timeout=5s 2>/dev/null)" == "ok" ]]
}

free_port() {
	local p taken low
	# Below the kernel's ephemeral range: an outgoing connection cannot take the port between
	# this check and the daemon's bind.
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
	((low > 12000)) || low=32768
	for _ in $(seq 200); do
		p=$((10000 + RANDOM % (low - 10000)))
		grep -qx "${p}" "${STATE}/ports.used" 2>/dev/null && continue
		taken=0
		(exec 3<>"/dev/tcp/127.0.0.1/${p}") 2>/dev/null && taken=1
		if ((taken == 0)); then echo "${p}" >>"${STATE}/ports.used"; echo "${p}"; return 0; fi
	done
	die "no free port found"
}

gen_certs() { # API_IP
	local d="${STATE}/pki" api_extra_san=""
	[[ "$1" == 127.0.0.1 ]] || api_extra_san="IP:$1,"
	mkdir -p "${d}"
	(
		cd "${d}"
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
			-subj "/CN=graft-test-ca" 2>/dev/null
		# name CN O [SANs]
		issue() {
			local name=$1 subj=$2 san=${3:-}
			openssl req -newkey rsa:2048 -nodes -keyout "${name}.key" -out "${name}.csr" -subj "${subj}" 2>/dev/null
			{
				echo "basicConstraints=CA:FALSE"
				echo "keyUsage=critical,digitalSignature,keyEncipherment"
				if [[ -n "${san}" ]]; then
					echo "extendedKeyUsage=serverAuth"
					echo "subjectAltName=${san}"
				else
					echo "extendedKeyUsage=clientAuth"
				fi
			} >"${name}.ext"
			openssl x509 -req -in "${name}.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
				-out "${name}.crt" -days 3650 -extfile "${name}.ext" 2>/dev/null
			rm -f "${name}.csr" "${name}.ext"
		}
		issue apiserver "/CN=kube-apiserver" \
			"${api_extra_san}IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
		issue admin "/O=system:masters/CN=kubernetes-admin"
		issue controller-manager "/CN=system:kube-controller-manager"
		issue scheduler "/CN=system:kube-scheduler"
		issue kwok "/O=system:masters/CN=kwok"
		# Presented by the API server to webhooks that ask for a client certificate (graft's
		# --client-ca): see write_admission_config.
		issue webhook-client "/CN=kube-apiserver-webhook-client"
		openssl genrsa -out sa.key 2048 2>/dev/null
		openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
	)
}

write_kubeconfig() { # file user server
	cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: graft-test
  cluster:
    server: $3
    certificate-authority: ${STATE}/pki/ca.crt
users:
- name: $2
  user:
    client-certificate: ${STATE}/pki/$2.crt
    client-key: ${STATE}/pki/$2.key
contexts:
- name: graft-test
  context:
    cluster: graft-test
    user: $2
current-context: graft-test
EOF
}

# The API server's AdmissionConfiguration: webhooks get the client certificate webhook-client
# (user "*" of the webhook kubeconfig matches every webhook; one that does not ask for a
# certificate never sees it). test/e2e/client-cert.e2e.test.ts relies on it.
write_admission_config() {
	cat >"${STATE}/webhook-client.kubeconfig" <<EOF
apiVersion: v1
kind: Config
users:
- name: "*"
  user:
    client-certificate: ${STATE}/pki/webhook-client.crt
    client-key: ${STATE}/pki/webhook-client.key
EOF
	cat >"${STATE}/admission.yaml" <<EOF
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: MutatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: ${STATE}/webhook-client.kubeconfig
- name: ValidatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: ${STATE}/webhook-client.kubeconfig
EOF
}

# start NAME ARGS...: run our binary NAME in its own session/process group, logging to logs/NAME.log
start() {
	local name=$1; shift
	start_exe "${name}" "$(bin_dir)/${name}" "$@"
}

# start_exe NAME EXE ARGS...: as start, for a program that is not ours (containerd)
start_exe() {
	local name=$1 exe=$2; shift 2
	# 9>&-: the daemons must not inherit the state lock.
	setsid "${exe}" "$@" >"${STATE}/logs/${name}.log" 2>&1 </dev/null 8>&- 9>&- &
	local pid=$!
	echo "${pid}" >"${STATE}/pids/${name}"
	# Until the child has exec'd, /proc/PID is still a bash fork; pid_alive relies on argv0.
	for _ in $(seq 100); do
		[[ "$(readlink "/proc/${pid}/exe" 2>/dev/null)" == "${exe}" ]] && break
		kill -0 "${pid}" 2>/dev/null || break
		sleep 0.05
	done
	log "started ${name} (pid ${pid})"
}

# wait_for DESC CMD...: retry CMD until it succeeds or the deadline passes
wait_for() {
	local desc=$1; shift
	local deadline=$((SECONDS + TIMEOUT))
	until "$@" >/dev/null 2>&1; do
		local c
		for c in "${COMPONENTS[@]}"; do
			if [[ -f "${STATE}/pids/${c}" ]] && ! pid_alive "${c}"; then
				tail -n 20 "${STATE}/logs/${c}.log" >&2 || true
				die "${c} exited while waiting for ${desc} (log: ${STATE}/logs/${c}.log)"
			fi
		done
		((SECONDS < deadline)) || die "timed out after ${TIMEOUT}s waiting for ${desc}"
		sleep 0.3
	done
	log "ready: ${desc}"
}

# shellcheck source=node.sh
source "${HERE}/node.sh"

readyz() { [[ "$(kctl get --raw /readyz --request-timeout=5s)" == "ok" ]]; }
etcd_health() { curl -sf "http://127.0.0.1:$1/health" | grep -q '"health":"true"'; }
secure_healthz() { curl -skf "https://127.0.0.1:$1/healthz" | grep -qx ok; }
node_ready() { # Ready, and no taint left (TaintNodesByCondition adds not-ready on create)
	[[ "$(kctl get node "${NODE_NAME}" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}/{.spec.taints}')" == "True/" ]]
}

cmd_up() {
	mkdir -p "${STATE}"
	exec 9>"${STATE}/.lock"
	flock 9
	if healthy; then
		log "already up"
		echo "KUBECONFIG=$(kubeconfig)"
		return 0
	fi
	cmd_build
	stop_everything
	# A failed start leaves nothing running.
	trap 'status=$?; if ((status != 0)); then log "up failed; stopping what started"; stop_everything; fi' EXIT
	local keep_lock; keep_lock="${STATE}/.lock"
	find "${STATE}" -mindepth 1 -maxdepth 1 ! -path "${keep_lock}" -exec rm -rf {} +
	mkdir -p "${STATE}/pids" "${STATE}/logs" "${STATE}/etcd"
	local start_ts; start_ts="$(now)"
	echo "${NODE_MODE}" >"${STATE}/mode"
	# The API server listens where the node's pods reach it: loopback for kwok, the bridge for real.
	local api_ip=127.0.0.1 api_mode_args=(--endpoint-reconciler-type=none)
	if [[ "${NODE_MODE}" == real ]]; then
		node_prepare
		api_ip="${BRIDGE_IP}"
		# The `kubernetes` Service's endpoint is the bridge address (lease reconciler, the default);
		# logs/exec reach the kubelet at its InternalIP with a client certificate.
		api_mode_args=(--endpoint-reconciler-type=lease
			--kubelet-preferred-address-types=InternalIP
			--kubelet-client-certificate="${STATE}/pki/apiserver-kubelet-client.crt"
			--kubelet-client-key="${STATE}/pki/apiserver-kubelet-client.key")
	fi
	gen_certs "${api_ip}"
	[[ "${NODE_MODE}" == real ]] && node_certs

	local etcd_port etcd_peer api_port kcm_port sched_port
	etcd_port="$(free_port)"; etcd_peer="$(free_port)"; api_port="$(free_port)"
	kcm_port="$(free_port)"; sched_port="$(free_port)"
	local server="https://${api_ip}:${api_port}"
	SERVER="${server}"
	write_kubeconfig "$(kubeconfig)" admin "${server}"
	write_kubeconfig "${STATE}/controller-manager.kubeconfig" controller-manager "${server}"
	write_kubeconfig "${STATE}/scheduler.kubeconfig" scheduler "${server}"
	write_kubeconfig "${STATE}/kwok.kubeconfig" kwok "${server}"
	write_admission_config
	printf 'etcd=%s\netcd-peer=%s\napiserver=%s\ncontroller-manager=%s\nscheduler=%s\n' \
		"${etcd_port}" "${etcd_peer}" "${api_port}" "${kcm_port}" "${sched_port}" >"${STATE}/ports"
	local pki="${STATE}/pki"

	start etcd --name=graft-test --data-dir="${STATE}/etcd" \
		--listen-client-urls="http://127.0.0.1:${etcd_port}" \
		--advertise-client-urls="http://127.0.0.1:${etcd_port}" \
		--listen-peer-urls="http://127.0.0.1:${etcd_peer}" \
		--initial-advertise-peer-urls="http://127.0.0.1:${etcd_peer}" \
		--initial-cluster="graft-test=http://127.0.0.1:${etcd_peer}" \
		--unsafe-no-fsync --log-level=warn
	wait_for "etcd" etcd_health "${etcd_port}"

	start kube-apiserver \
		--etcd-servers="http://127.0.0.1:${etcd_port}" \
		--bind-address="${api_ip}" --advertise-address="${api_ip}" --secure-port="${api_port}" \
		"${api_mode_args[@]}" \
		--tls-cert-file="${pki}/apiserver.crt" --tls-private-key-file="${pki}/apiserver.key" \
		--client-ca-file="${pki}/ca.crt" \
		--admission-control-config-file="${STATE}/admission.yaml" \
		--service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--service-account-key-file="${pki}/sa.pub" \
		--service-account-signing-key-file="${pki}/sa.key" \
		--service-cluster-ip-range="${SERVICE_CIDR}" \
		--authorization-mode=Node,RBAC \
		--allow-privileged=true \
		--profiling=false
	wait_for "kube-apiserver /readyz" readyz

	start kube-controller-manager \
		--kubeconfig="${STATE}/controller-manager.kubeconfig" \
		--authentication-kubeconfig="${STATE}/controller-manager.kubeconfig" \
		--authorization-kubeconfig="${STATE}/controller-manager.kubeconfig" \
		--bind-address=127.0.0.1 --secure-port="${kcm_port}" \
		--leader-elect=false \
		--controllers="$(IFS=,; echo "${CONTROLLERS[*]}")" \
		--use-service-account-credentials=true \
		--root-ca-file="${pki}/ca.crt" \
		--service-account-private-key-file="${pki}/sa.key" \
		--profiling=false
	start kube-scheduler \
		--kubeconfig="${STATE}/scheduler.kubeconfig" \
		--authentication-kubeconfig="${STATE}/scheduler.kubeconfig" \
		--authorization-kubeconfig="${STATE}/scheduler.kubeconfig" \
		--bind-address=127.0.0.1 --secure-port="${sched_port}" \
		--leader-elect=false --profiling=false
	if [[ "${NODE_MODE}" == real ]]; then
		wait_for "kube-controller-manager /healthz" secure_healthz "${kcm_port}"
		wait_for "kube-scheduler /healthz" secure_healthz "${sched_port}"
		wait_for "ServiceAccount default/default" kctl -n default get serviceaccount default
		node_up
	else
		kwok_up "${kcm_port}" "${sched_port}"
	fi
	log "cluster up in $(since "${start_ts}")s (k8s $(k8s_version), ${NODE_MODE} node, apiserver ${server})"
	log "kubeconfig: $(kubeconfig)"
	trap - EXIT
	echo "KUBECONFIG=$(kubeconfig)"
}

kwok_up() { # KCM_PORT SCHED_PORT
	local kcm_port=$1 sched_port=$2
	cat >"${STATE}/kwok.yaml" <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options: {}
EOF
	start kwok --config="${STATE}/kwok.yaml" \
		--kubeconfig="${STATE}/kwok.kubeconfig" \
		--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
		--cidr="${POD_CIDR}" --node-ip=127.0.0.1 \
		--node-lease-duration-seconds=40

	kctl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: ${NODE_NAME}
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/hostname: ${NODE_NAME}
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    node-role.kubernetes.io/agent: ""
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "250"}
  capacity: {cpu: "32", memory: 256Gi, pods: "250"}
EOF
	wait_for "kube-controller-manager /healthz" secure_healthz "${kcm_port}"
	wait_for "kube-scheduler /healthz" secure_healthz "${sched_port}"
	wait_for "ServiceAccount default/default" kctl -n default get serviceaccount default
	wait_for "node ${NODE_NAME} Ready" node_ready
}

# stop_everything: the node's teardown (real mode) or just the processes (kwok).
stop_everything() {
	if [[ "${NODE_MODE}" == real || "$(cat "${STATE}/mode" 2>/dev/null)" == real ]]; then
		node_down
	else
		stop_all
	fi
}

# running PID: the process exists and is not a zombie (daemons of an earlier `up` are
# reparented; their reaper may take seconds to collect them).
running() {
	local state
	state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
	[[ -n "${state}" && "${state}" != Z ]]
}

# stop_all: TERM each recorded process group (reverse start order), then KILL what remains.
stop_all() {
	[[ -d "${STATE}/pids" ]] || return 0
	local i c pid
	for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
		c="${COMPONENTS[i]}"
		if pid_alive "${c}"; then
			pid="$(<"${STATE}/pids/${c}")"
			kill -TERM -- "-${pid}" 2>/dev/null || kill -TERM "${pid}" 2>/dev/null || true
			local deadline=$((SECONDS + 15))
			while running "${pid}" && ((SECONDS < deadline)); do sleep 0.1; done
			if running "${pid}"; then
				log "${c} did not stop on TERM; killing"
				kill -KILL -- "-${pid}" 2>/dev/null || kill -KILL "${pid}" 2>/dev/null || true
				while running "${pid}"; do sleep 0.1; done
			fi
			log "stopped ${c} (pid ${pid})"
		fi
		rm -f "${STATE}/pids/${c}"
	done
}

cmd_down() {
	[[ -d "${STATE}" ]] || { log "nothing to stop"; return 0; }
	exec 9>"${STATE}/.lock"
	flock 9
	local start_ts; start_ts="$(now)"
	stop_everything
	if [[ -f "${STATE}/host.before" ]]; then
		node_verify_clean || die "real node: down left something behind (see above)"
		rm -f "${STATE}/host.before"
	fi
	# Ports must be free afterwards.
	if [[ -f "${STATE}/ports" ]]; then
		local p busy deadline=$((SECONDS + 10))
		while :; do
			busy=""
			while IFS='=' read -r _ p; do
				(exec 3<>"/dev/tcp/127.0.0.1/${p}") 2>/dev/null && busy+=" ${p}"
			done <"${STATE}/ports"
			[[ -z "${busy}" ]] && break
			((SECONDS < deadline)) || die "ports still listening after down:${busy}"
			sleep 0.2
		done
	fi
	log "down in $(since "${start_ts}")s"
}

cmd_env() {
	echo "export KUBECONFIG=$(kubeconfig)"
	echo "export GRAFT_CLUSTER_BIN=$(bin_dir)"
	echo "# PATH=\"\${GRAFT_CLUSTER_BIN}:\${PATH}\" puts the matching kubectl first"
}

case "${1:-}" in
build) cmd_build ;;
up) cmd_up ;;
down) cmd_down ;;
status) if healthy; then log "up: $(kubeconfig)"; else log "not up"; exit 1; fi ;;
kubectl)
	shift
	[[ -x "$(bin_dir)/kubectl" ]] || cmd_build
	exec "$(bin_dir)/kubectl" --kubeconfig "$(kubeconfig)" "$@"
	;;
env) cmd_env ;;
node-check) node_check ;;
node-deps) node_install ;;
ctr)
	shift
	exec ctr --address "${STATE}/run/containerd.sock" -n k8s.io "$@"
	;;
*)
	sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
