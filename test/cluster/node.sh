# shellcheck shell=bash
# The real node of cluster.sh (sourced by it; GRAFT_CLUSTER_NODE=real): upstream's kubelet and
# kube-proxy built from go.mod, Debian's containerd + runc + CNI plugins, a bridge on a private
# /24, CoreDNS as a Deployment. Needs root. Everything it changes on the host is recorded at
# `up` and undone by `down`, which then compares the host with the record (node_verify_clean).
#
# One real node per host: kube-proxy owns the host's KUBE-* iptables chains. /run/graft-real-node
# names the state dir of the running one.

OWNER_FILE=/run/graft-real-node
BRIDGE=graftbr0
CLUSTER_DNS=10.96.0.10
CLUSTER_DOMAIN=cluster.local
CNI_BIN=/usr/lib/cni
NODE_PACKAGES=(containerd runc containernetworking-plugins iptables nftables)
# Sysctls the node changes: the kubelet's kernel tunables (container_manager_linux.go), the
# bridge plugin's forwarding, bridged traffic through iptables (for Services between pods on
# the bridge), and kube-proxy's conntrack settings (disabled in its config, saved anyway).
NODE_SYSCTLS=(
	vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
	kernel.keys.root_maxkeys kernel.keys.root_maxbytes
	net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
	net.ipv4.conf.all.route_localnet net.netfilter.nf_conntrack_max
	net.netfilter.nf_conntrack_tcp_timeout_established net.netfilter.nf_conntrack_tcp_timeout_close_wait
)
# Host paths the node's programs may create outside the state dir (the kubelet's container log
# links, libcni's result cache, the shims' sockets); removed at `down` when `up` did not find them.
NODE_HOST_PATHS=(/var/log/containers /var/log/pods /var/lib/cni /run/containerd /var/lib/kubelet
	/var/lib/containerd /etc/cni /opt/cni /run/netns /etc/kubernetes /var/run/kubernetes)

node_env() { echo "${STATE}/node.env"; }
# The kubelet's cgroupRoot, one per state dir.
CGROUP_ROOT="/graft-node-$(echo "${STATE}" | sha256sum | cut -c1-8)"

# node_check: exit 0 when this machine can run the real node; otherwise print why on stdout.
node_check() {
	local why=()
	[[ "$(id -u)" == 0 ]] || why+=("not root (the kubelet, containerd and the bridge need root)")
	[[ "$(uname -s)" == Linux ]] || why+=("not Linux")
	[[ -d /proc/sys/net/bridge ]] || why+=("no br_netfilter (/proc/sys/net/bridge missing)")
	grep -qw overlay /proc/filesystems 2>/dev/null || why+=("no overlay filesystem")
	[[ -d /sys/fs/cgroup/memory || -f /sys/fs/cgroup/cgroup.controllers ]] || why+=("no cgroup hierarchy")
	local caps; caps="$(awk '/^CapEff/ {print $2}' /proc/self/status 2>/dev/null)"
	# CAP_NET_ADMIN (12) and CAP_SYS_ADMIN (21)
	if [[ -z "${caps}" ]] || (((16#${caps} >> 12 & 1) == 0 || (16#${caps} >> 21 & 1) == 0)); then
		why+=("missing CAP_NET_ADMIN or CAP_SYS_ADMIN")
	fi
	local p missing=()
	for p in containerd runc iptables; do command -v "${p}" >/dev/null || missing+=("${p}"); done
	[[ -x "${CNI_BIN}/bridge" ]] || missing+=("${CNI_BIN}/bridge")
	if ((${#missing[@]})) && ! command -v apt-get >/dev/null; then
		why+=("missing ${missing[*]} and no apt-get to install them")
	fi
	if ((${#why[@]})); then
		printf '%s\n' "${why[@]}"
		return 1
	fi
}

node_install() {
	# shellcheck source=../../scripts/lib/apt.sh
	source "${HERE}/../../scripts/lib/apt.sh"
	apt_install "${NODE_PACKAGES[@]}" >&2
}

# --- the host record ------------------------------------------------------------------------

# host_snapshot: what `down` must leave as `up` found it, one fact a line.
host_snapshot() {
	local key p
	# Sysctls, except counters and per-device keys (devices come and go; all/default stay).
	{ sysctl -a 2>/dev/null || true; } |
		{ grep -Ev '^(fs\.(dentry-state|file-nr|inode-nr|inode-state|quota\.[a-z_]+)|kernel\.(ns_last_pid|pty\.nr|random\.)|net\.netfilter\.nf_conntrack_count)' || true; } |
		awk '!/^net\.ipv[46]\.(conf|neigh)\./ || /^net\.ipv[46]\.(conf|neigh)\.(all|default)\./ {print "sysctl " $0}'
	for key in iptables ip6tables; do
		command -v "${key}-save" >/dev/null || continue
		# The node's rules (other programs on the host may add their own meanwhile).
		{ "${key}-save" 2>/dev/null || true; } | { grep -E "KUBE-|CNI-|${BRIDGE}|10\.213\." || true; } |
			sed -E "s/\[[0-9]+:[0-9]+\]//; s/^/${key} /"
	done
	if command -v nft >/dev/null; then { nft list tables 2>/dev/null || true; } | sed 's/^/nft /'; fi
	# The bridge; the pods' veths go with their network namespaces (mounts in the state dir).
	if ip link show "${BRIDGE}" >/dev/null 2>&1; then echo "link ${BRIDGE}"; fi
	# Mounts the node makes: in the state dir and the host paths its programs use.
	awk '{print $5}' /proc/self/mountinfo |
		{ grep -E "^(${STATE}/|/run/netns|/run/containerd|/var/lib/kubelet|/var/lib/containerd)" || true; } | sed 's/^/mount /'
	for p in "${NODE_HOST_PATHS[@]}" "${OWNER_FILE}"; do
		if [[ -e "${p}" ]]; then echo "path ${p}"; fi
	done
	find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d -name 'graft-node*' 2>/dev/null | sed 's/^/cgroup /'
}

# node_leftovers: pids of processes of this node still running (those naming its state dir:
# daemons, shims), one a line
node_leftovers() {
	# The pattern from a file outside the state dir: grep's own command line must not match.
	local pattern; pattern="$(mktemp)"
	printf '%s/\n' "${STATE}" >"${pattern}"
	grep -lsF -f "${pattern}" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 | { grep -vxE "$$|${BASHPID}" || true; }
	rm -f "${pattern}"
}

node_verify_clean() {
	local before="${STATE}/host.before" after="${STATE}/host.after" problems=""
	[[ -f "${before}" ]] || return 0
	host_snapshot | LC_ALL=C sort >"${after}"
	local diff; diff="$(LC_ALL=C diff <(LC_ALL=C sort "${before}") "${after}" | grep -E '^[<>]' || true)"
	[[ -z "${diff}" ]] || problems+=$'\nhost differs from before `up` (< before, > now):\n'"${diff}"
	local procs; procs="$(node_leftovers | tr '\n' ' ')"
	[[ -z "${procs// /}" ]] || problems+=$'\nprocesses still running: '"${procs}"
	if [[ -n "${problems}" ]]; then
		log "down left something behind:${problems}"
		return 1
	fi
	log "verified: no process, mount, bridge, veth, cgroup, iptables rule, sysctl or path left behind"
}

# --- pieces -----------------------------------------------------------------------------------

node_pick_subnet() {
	local n used
	used="$(ip -4 route show 2>/dev/null; ip -4 addr show 2>/dev/null)"
	for n in $(seq 0 255); do
		if ! grep -qE "(^| )10\.213\.${n}\." <<<"${used}"; then
			echo "10.213.${n}"
			return 0
		fi
	done
	die "no free 10.213.N.0/24 subnet for the node's bridge"
}

node_cgroup_dirs() { # every hierarchy's copy of the cgroup root
	local h
	for h in /sys/fs/cgroup/*/; do
		if [[ -d "${h}${CGROUP_ROOT#/}" ]]; then echo "${h}${CGROUP_ROOT#/}"; fi
	done
}

node_make_cgroups() {
	local h
	for h in /sys/fs/cgroup/*/; do
		[[ -f "${h}cgroup.procs" ]] || continue
		mkdir -p "${h}${CGROUP_ROOT#/}"
		# cpuset children start empty; runc and the kubelet need cpus and mems inherited.
		if [[ -f "${h}cpuset.cpus" ]]; then
			cat "${h}cpuset.cpus" >"${h}${CGROUP_ROOT#/}/cpuset.cpus"
			cat "${h}cpuset.mems" >"${h}${CGROUP_ROOT#/}/cpuset.mems"
		fi
	done
}

node_remove_cgroups() {
	local d pid
	for _ in 1 2 3 4 5; do
		local left=0
		while read -r d; do
			[[ -n "${d}" ]] || continue
			left=1
			# Kill what is still inside (containers whose pods were not deleted), then rmdir bottom-up.
			{ find "${d}" -name cgroup.procs -exec cat {} + 2>/dev/null || true; } |
				while read -r pid; do kill -KILL "${pid}" 2>/dev/null || true; done
			find "${d}" -depth -type d -exec rmdir {} \; 2>/dev/null || true
		done < <(node_cgroup_dirs)
		((left)) || return 0
		sleep 0.5
	done
	if [[ -n "$(node_cgroup_dirs)" ]]; then log "warning: cgroups left: $(node_cgroup_dirs | tr '\n' ' ')"; fi
}

node_save_sysctls() {
	local key
	for key in "${NODE_SYSCTLS[@]}"; do
		if [[ -e "/proc/sys/${key//.//}" ]]; then echo "${key}=$(sysctl -n "${key}")"; fi
	done >"${STATE}/sysctl.saved"
}

node_restore_sysctls() {
	[[ -f "${STATE}/sysctl.saved" ]] || return 0
	local line key value
	while IFS= read -r line; do
		key="${line%%=*}"; value="${line#*=}"
		[[ "$(sysctl -n "${key}" 2>/dev/null)" == "${value}" ]] || sysctl -qw "${key}=${value}" >/dev/null || log "warning: cannot restore ${key}=${value}"
	done <"${STATE}/sysctl.saved"
}

node_unmount_state() {
	local m
	for _ in 1 2 3; do
		local any=0
		# Deepest first; mountinfo escapes spaces as \040.
		while read -r m; do
			[[ -n "${m}" ]] || continue
			any=1
			umount "${m}" 2>/dev/null || umount -l "${m}" 2>/dev/null || true
		done < <(awk -v s="${STATE}/" 'index($5, s) == 1 {print $5}' /proc/self/mountinfo | sort -r)
		((any)) || return 0
	done
}

# iptables rules of kube-proxy and the kubelet: kube-proxy's own cleanup, then any KUBE-* chain
# and the jumps to it (the kubelet's canary and hint chains).
node_iptables_cleanup() {
	local bin; bin="$(bin_dir)/kube-proxy"
	if [[ -x "${bin}" ]]; then
		mkdir -p "${STATE}/logs"
		"${bin}" --cleanup --proxy-mode=iptables >"${STATE}/logs/kube-proxy-cleanup.log" 2>&1 || true
	fi
	local ipt table rule chain
	for ipt in iptables ip6tables; do
		command -v "${ipt}" >/dev/null || continue
		for table in filter nat mangle raw; do
			{ "${ipt}" -t "${table}" -S 2>/dev/null || true; } | { grep -E '^-A [A-Z]+ .*-j KUBE-' || true; } |
				while read -r rule; do
					# shellcheck disable=SC2086 # a saved rule is a list of words
					"${ipt}" -t "${table}" ${rule/-A/-D} 2>/dev/null || true
				done
			for chain in $("${ipt}" -t "${table}" -S 2>/dev/null | awk '$1=="-N" && $2 ~ /^KUBE-/ {print $2}'); do
				"${ipt}" -t "${table}" -F "${chain}" 2>/dev/null || true
			done
			for chain in $("${ipt}" -t "${table}" -S 2>/dev/null | awk '$1=="-N" && $2 ~ /^KUBE-/ {print $2}'); do
				"${ipt}" -t "${table}" -X "${chain}" 2>/dev/null || true
			done
		done
	done
}

# iptables-nft leaves the nf_tables tables it created (ip nat, ip6 filter, ...) once emptied:
# delete those `up` did not find and that hold no rule now.
node_nft_cleanup() {
	command -v nft >/dev/null || return 0
	local family table ipt
	while read -r _ family table; do
		grep -qxF "nft table ${family} ${table}" "${STATE}/host.before" 2>/dev/null && continue
		case "${family}" in ip) ipt=iptables ;; ip6) ipt=ip6tables ;; *) continue ;; esac
		"${ipt}-save" -t "${table}" 2>/dev/null | grep -q '^-A' && continue
		nft delete table "${family}" "${table}" 2>/dev/null || true
	done < <(nft list tables 2>/dev/null)
}

node_remove_host_paths() {
	# The kubelet's links to container logs in the state dir, libcni's cache of our network.
	find /var/log/containers -maxdepth 1 -type l -lname "${STATE}/*" -delete 2>/dev/null || true
	rm -f /var/lib/cni/results/graft-* 2>/dev/null || true
	local p
	for p in "${NODE_HOST_PATHS[@]}"; do
		[[ -e "${p}" ]] || continue
		grep -qxF "path ${p}" "${STATE}/host.before" 2>/dev/null && continue
		# Only what holds nothing but directories and sockets (the kubelet's device-plugin socket is
		# a constant, /var/lib/kubelet/device-plugins/kubelet.sock): never someone else's files.
		if [[ -z "$(find "${p}" ! -type d ! -type s -print -quit 2>/dev/null)" ]]; then
			rm -rf "${p}"
		else
			log "warning: ${p} appeared during the node's life and is not empty; left in place"
		fi
	done
}

# --- up ---------------------------------------------------------------------------------------

# node_prepare: before the control plane starts: packages, the host record, bridge, cgroups.
node_prepare() {
	local why
	why="$(node_check)" || die "this machine cannot run the real node: ${why//$'\n'/; }"
	if [[ -f "${OWNER_FILE}" ]]; then
		local owner; owner="$(<"${OWNER_FILE}")"
		if [[ "${owner}" != "${STATE}" ]]; then
			if [[ -n "$(STATE="${owner}" node_leftovers)" ]]; then
				die "a real node from ${owner} holds this host (${OWNER_FILE}); stop it with: GRAFT_CLUSTER_DIR=${owner} $0 --real-node down"
			fi
			# Nothing of it runs any more (its `down` never came): take the host over.
			log "warning: taking over from a stopped real node (${owner}); clearing its rules and bridge"
			rm -f "${OWNER_FILE}"
			node_iptables_cleanup
			node_nft_cleanup
			ip link del "${BRIDGE}" 2>/dev/null || true
		fi
	fi
	node_install
	local net; net="$(node_pick_subnet)"
	BRIDGE_IP="${net}.1"
	POD_SUBNET="${net}.0/24"
	host_snapshot | LC_ALL=C sort >"${STATE}/host.before"
	node_save_sysctls
	printf 'BRIDGE_IP=%s\nPOD_SUBNET=%s\n' "${BRIDGE_IP}" "${POD_SUBNET}" >"$(node_env)"
	echo "${STATE}" >"${OWNER_FILE}"

	sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 >/dev/null
	ip link add "${BRIDGE}" type bridge
	ip addr add "${BRIDGE_IP}/24" dev "${BRIDGE}"
	ip link set "${BRIDGE}" up
	# Host-originated traffic to Services (the API server calling a webhook) leaves by the bridge
	# with the bridge's address; kube-proxy's DNAT picks the pod.
	ip route add "${SERVICE_CIDR}" dev "${BRIDGE}" src "${BRIDGE_IP}"
	node_make_cgroups
	mkdir -p "${STATE}/run" "${STATE}/cni/net.d" "${STATE}/cni/ipam" "${STATE}/containerd" "${STATE}/kubelet" "${STATE}/pod-logs"
}

node_certs() {
	local d="${STATE}/pki"
	(
		cd "${d}" || exit 1
		issue() { # name subject ext-lines...
			local name=$1 subj=$2; shift 2
			openssl req -newkey rsa:2048 -nodes -keyout "${name}.key" -out "${name}.csr" -subj "${subj}" 2>/dev/null
			printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" "$@" >"${name}.ext"
			openssl x509 -req -in "${name}.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
				-out "${name}.crt" -days 3650 -extfile "${name}.ext" 2>/dev/null
			rm -f "${name}.csr" "${name}.ext"
		}
		issue kubelet "/O=system:nodes/CN=system:node:${NODE_NAME}" "extendedKeyUsage=clientAuth"
		issue kubelet-serving "/CN=${NODE_NAME}" "extendedKeyUsage=serverAuth" "subjectAltName=IP:${BRIDGE_IP},DNS:${NODE_NAME}"
		issue apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "extendedKeyUsage=clientAuth"
		issue kube-proxy "/CN=system:kube-proxy" "extendedKeyUsage=clientAuth"
	)
}

node_start_containerd() {
	local c="${STATE}/containerd"
	cat >"${c}/config.toml" <<EOF
version = 2
root = "${c}/root"
state = "${c}/state"
# opt would write /opt/containerd; the others are snapshotters and exporters this node never uses.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "${STATE}/run/containerd.sock"
[ttrpc]
  address = "${STATE}/run/containerd-ttrpc.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "graft.local/pause:1"
  # No CAP_SYS_RESOURCE in some VMs: runc must not lower oom_score_adj below containerd's.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${STATE}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${CNI_BIN}"
    conf_dir = "${STATE}/cni/net.d"
EOF
	cat >"${STATE}/cni/net.d/10-graft.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "graft",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "${BRIDGE}",
      "isGateway": true,
      "hairpinMode": true,
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "${POD_SUBNET}", "gateway": "${BRIDGE_IP}"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "${STATE}/cni/ipam"
      }
    }
  ]
}
EOF
	start_exe containerd "$(command -v containerd)" --config "${c}/config.toml"
	wait_for "containerd" ctr_ version
	local image start_ts; start_ts="$(now)"
	for image in pause testbox coredns; do
		ctr_ images import "$(bin_dir)/images/${image}.tar" >/dev/null
	done
	log "imported images pause, testbox, coredns in $(since "${start_ts}")s"
}

ctr_() { ctr --address "${STATE}/run/containerd.sock" -n k8s.io "$@"; }

node_start_kubelet() {
	local kubelet_port healthz_port
	kubelet_port="$(free_port)"; healthz_port="$(free_port)"
	printf 'kubelet=%s\nkubelet-healthz=%s\n' "${kubelet_port}" "${healthz_port}" >>"${STATE}/ports"
	# Pods get the cluster DNS only: the host's resolver settings stay out.
	printf 'nameserver %s\n' "${CLUSTER_DNS}" >"${STATE}/resolv.conf"
	write_kubeconfig "${STATE}/kubelet.kubeconfig" kubelet "${SERVER}"
	cat >"${STATE}/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${BRIDGE_IP}
port: ${kubelet_port}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${healthz_port}
tlsCertFile: ${STATE}/pki/kubelet-serving.crt
tlsPrivateKeyFile: ${STATE}/pki/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: ${STATE}/pki/ca.crt}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://${STATE}/run/containerd.sock
cgroupDriver: cgroupfs
cgroupRoot: ${CGROUP_ROOT}
cgroupsPerQOS: true
failCgroupV1: false
failSwapOn: false
makeIPTablesUtilChains: false
protectKernelDefaults: false
clusterDNS: [${CLUSTER_DNS}]
clusterDomain: ${CLUSTER_DOMAIN}
resolvConf: ${STATE}/resolv.conf
podLogsDir: ${STATE}/pod-logs
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", nodefs.inodesFree: "1%", imagefs.available: "1%"}
# Imported images cannot be pulled back: never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
rotateCertificates: false
serverTLSBootstrap: false
staticPodPath: ""
shutdownGracePeriod: 0s
EOF
	start kubelet --config="${STATE}/kubelet.yaml" \
		--kubeconfig="${STATE}/kubelet.kubeconfig" \
		--root-dir="${STATE}/kubelet" --cert-dir="${STATE}/kubelet/pki" \
		--hostname-override="${NODE_NAME}" --node-ip="${BRIDGE_IP}" \
		--v=1
}

node_start_kube_proxy() {
	local healthz metrics
	healthz="$(free_port)"; metrics="$(free_port)"
	printf 'kube-proxy-healthz=%s\nkube-proxy-metrics=%s\n' "${healthz}" "${metrics}" >>"${STATE}/ports"
	write_kubeconfig "${STATE}/kube-proxy.kubeconfig" kube-proxy "${SERVER}"
	cat >"${STATE}/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: ${STATE}/kube-proxy.kubeconfig}
hostnameOverride: ${NODE_NAME}
mode: iptables
clusterCIDR: ${POD_SUBNET}
healthzBindAddress: 127.0.0.1:${healthz}
metricsBindAddress: 127.0.0.1:${metrics}
nodePortAddresses: [${POD_SUBNET}]
oomScoreAdj: 0
# Zero: leave the host's conntrack table size and timeouts alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false, masqueradeAll: false}
EOF
	start kube-proxy --config="${STATE}/kube-proxy.yaml"
	wait_for "kube-proxy /healthz" curl -sf "http://127.0.0.1:${healthz}/healthz"
}

node_deploy_coredns() {
	sed -e "s/@CLUSTER_DNS@/${CLUSTER_DNS}/g" -e "s/@CLUSTER_DOMAIN@/${CLUSTER_DOMAIN}/g" \
		"${HERE}/coredns/coredns.yaml" | kctl apply -f - >/dev/null
	wait_for "CoreDNS Deployment available" kctl -n kube-system wait deployment/coredns --for=condition=Available --timeout=5s
}

# node_up: after the control plane: runtime, kubelet, kube-proxy, DNS.
node_up() {
	node_start_containerd
	node_start_kubelet
	wait_for "node ${NODE_NAME} Ready" node_ready
	node_start_kube_proxy
	node_deploy_coredns
}

# --- down -------------------------------------------------------------------------------------

# node_down: idempotent; each step undoes one kind of change whatever state `up` reached.
node_down() {
	# Pods first, through the API, so that the kubelet runs CNI DEL and unmounts their volumes;
	# with the controllers and the scheduler stopped nothing replaces them.
	local c pid
	for c in kube-controller-manager kube-scheduler; do
		if pid_alive "${c}"; then kill -TERM "$(<"${STATE}/pids/${c}")" 2>/dev/null || true; fi
	done
	if pid_alive kube-apiserver && pid_alive kubelet && readyz >/dev/null 2>&1; then
		local start_ts; start_ts="$(now)"
		kctl delete pods --all --all-namespaces --grace-period=2 --wait=true --timeout=60s >/dev/null 2>&1 ||
			log "warning: deleting pods through the API did not finish; killing what remains"
		log "pods deleted in $(since "${start_ts}")s"
	fi
	stop_all
	# Shims outlive containerd; containers outlive shims when killed: both by state dir / cgroup.
	local pids; pids="$(node_leftovers)"
	# shellcheck disable=SC2086 # one pid a word
	if [[ -n "${pids}" ]]; then kill -KILL ${pids} 2>/dev/null || true; fi
	node_remove_cgroups
	node_unmount_state
	# The host-wide pieces belong to whichever state dir holds the host.
	local owner; owner="$(cat "${OWNER_FILE}" 2>/dev/null || true)"
	if [[ -z "${owner}" || "${owner}" == "${STATE}" ]]; then
		node_iptables_cleanup
		node_nft_cleanup
		ip link del "${BRIDGE}" 2>/dev/null || true
	fi
	node_restore_sysctls
	rm -f "${STATE}/sysctl.saved"
	[[ ! -f "${STATE}/host.before" ]] || node_remove_host_paths
	if [[ "$(cat "${OWNER_FILE}" 2>/dev/null)" == "${STATE}" ]]; then rm -f "${OWNER_FILE}"; fi
	rm -f "$(node_env)"
}
