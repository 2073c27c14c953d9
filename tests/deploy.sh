#!/bin/bash
# deploy: the kustomize base in deploy/ renders offline (`kubectl kustomize`)
# into what the README promises, and the command lines it gives the
# containers are ones this vineyardfs accepts. Checked in what renders:
# the namespace on every namespaced object; the DaemonSet privileged, with
# /dev/fuse, the hostPath state dir, the hostPath mount dir with
# Bidirectional propagation, the node name from the downward API, the
# cluster options from the ConfigMap, --supervise, a liveness probe on
# .vineyardfs/stats and a preStop that unmounts; etcd; the extender and a
# scheduler whose KubeSchedulerConfiguration points at it with the verbs
# it serves; the example Pod with HostToContainer propagation, placed by
# that scheduler, needing an object. Nothing is applied to a cluster.
set -eu

if ! command -v kubectl >/dev/null 2>&1; then
	echo "SKIP: no kubectl (Debian's kubernetes-client)"
	exit 77
fi
if [ -z "${VINEYARDFS:-}" ] || [ ! -x "$VINEYARDFS" ]; then
	echo "ERROR: set VINEYARDFS to the vineyardfs binary" >&2
	exit 99
fi
SRC=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/vfs-deploy.XXXXXX)
trap 'rm -rf "$T"' EXIT

kubectl kustomize "$SRC/deploy" >"$T/all.yaml" 2>"$T/kustomize.err" || {
	cat "$T/kustomize.err" >&2
	echo "FAIL [deploy]: kubectl kustomize deploy/ failed"
	exit 1
}
/usr/bin/python3 - "$T/all.yaml" "$VINEYARDFS" "$SRC/deploy/Containerfile" <<'PYEOF'
import re, subprocess, sys, yaml

docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
vfs = sys.argv[2]
fails = []

def check(cond, what):
    if not cond:
        fails.append(what)

def one(kind, name):
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    check(len(found) == 1, "one %s %s (found %d)" % (kind, name, len(found)))
    return found[0] if found else {}

kinds = sorted(d["kind"] for d in docs)
for k in ["Namespace", "ConfigMap", "DaemonSet", "StatefulSet", "Deployment", "Service", "Pod",
          "ServiceAccount", "ClusterRoleBinding"]:
    check(k in kinds, "a %s" % k)
for d in docs:
    if d["kind"] not in ("Namespace", "ClusterRoleBinding", "ClusterRole"):
        check(d["metadata"].get("namespace") == "vineyardfs",
              "%s %s in namespace vineyardfs" % (d["kind"], d["metadata"]["name"]))

config = one("ConfigMap", "vineyardfs-config")["data"]
env = dict(config, NODE_NAME="node-1", NODE_IP="10.0.0.1")

def expand(args):
    return [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a) for a in args]

def accepts(args, what):
    # Options before --help are parsed first: an unknown one exits 2. The
    # mount point stays last (options end at the first operand).
    a = expand(args[1:])
    a = a[:-1] + ["--help", a[-1]] if not a[-1].startswith("-") else a + ["--help"]
    r = subprocess.run([vfs] + a, capture_output=True, text=True)
    check(r.returncode == 0, "%s: vineyardfs refuses %s: %s" % (what, args, r.stderr.strip()))

ds = one("DaemonSet", "vineyardfs")
pod = ds["spec"]["template"]["spec"]
c = pod["containers"][0]
check(c["securityContext"].get("privileged") is True, "the DaemonSet is privileged")
vols = {v["name"]: v for v in pod["volumes"]}
mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
check(vols[mounts["/dev/fuse"]["name"]]["hostPath"]["path"] == "/dev/fuse", "/dev/fuse from the host")
check(vols[mounts["/dev/fuse"]["name"]]["hostPath"].get("type") == "CharDevice", "/dev/fuse a CharDevice")
check("hostPath" in vols[mounts["/var/lib/vineyardfs"]["name"]], "a hostPath state dir")
check(mounts["/vineyard"].get("mountPropagation") == "Bidirectional", "/vineyard Bidirectional")
check(vols[mounts["/vineyard"]["name"]]["hostPath"]["path"] == "/vineyard", "/vineyard from the host")
envs = {e["name"]: e for e in c.get("env", [])}
check(envs["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName", "the node name from the downward API")
check(any(e.get("configMapRef", {}).get("name") == "vineyardfs-config" for e in c.get("envFrom", [])),
      "the cluster options from the ConfigMap")
cmd = c["command"]
check(cmd[:2] == ["vineyardfs", "mount"] and "--supervise" in cmd and cmd[-1] == "/vineyard",
      "vineyardfs mount --supervise ... /vineyard")
for opt in ["--etcd=$(ETCD)", "--cluster=$(CLUSTER)", "--node-name=$(NODE_NAME)", "--foreground"]:
    check(opt in cmd, "the DaemonSet passes %s" % opt)
check(any(a.startswith("--metrics=") for a in cmd), "the DaemonSet serves metrics")
accepts(cmd, "the DaemonSet")
check(".vineyardfs/stats" in " ".join(c["livenessProbe"]["exec"]["command"]), "a liveness probe on .vineyardfs/stats")
check(c["lifecycle"]["preStop"]["exec"]["command"][:2] == ["vineyardfs", "umount"], "a preStop that unmounts")

etcd = one("StatefulSet", "vineyardfs-etcd")
check(etcd["spec"]["template"]["spec"]["containers"][0]["command"][0] == "etcd", "etcd runs etcd")
check("vineyardfs-etcd" in config["ETCD"], "the members' etcd is the StatefulSet's Service")
one("Service", "vineyardfs-etcd")

ext = one("Deployment", "vineyardfs-scheduler-extender")
ecmd = ext["spec"]["template"]["spec"]["containers"][0]["command"]
check(ecmd[:2] == ["vineyardfs", "scheduler-extender"], "the extender runs vineyardfs scheduler-extender")
accepts(ecmd, "the extender")
esvc = one("Service", "vineyardfs-scheduler-extender")
port = esvc["spec"]["ports"][0]["port"]
check(any(a == "--listen=0.0.0.0:%d" % port for a in ecmd), "the extender listens on its Service's port")

sched = yaml.safe_load(one("ConfigMap", "vineyardfs-scheduler-config")["data"]["config.yaml"])
check(sched["apiVersion"] == "kubescheduler.config.k8s.io/v1" and sched["kind"] == "KubeSchedulerConfiguration",
      "a KubeSchedulerConfiguration v1")
x = sched["extenders"][0]
check(x["urlPrefix"] == "http://vineyardfs-scheduler-extender.vineyardfs.svc:%d" % port,
      "urlPrefix points at the extender's Service: %s" % x["urlPrefix"])
check(x["filterVerb"] == "filter" and x["prioritizeVerb"] == "prioritize", "the verbs the extender serves")
check(x.get("nodeCacheCapable") is True and x.get("ignorable") is True, "nodeCacheCapable and ignorable")
profile = sched["profiles"][0]["schedulerName"]
sdep = one("Deployment", "vineyardfs-scheduler")
check("--config=/etc/vineyardfs-scheduler/config.yaml" in sdep["spec"]["template"]["spec"]["containers"][0]["command"],
      "the scheduler reads the configuration")

app = one("Pod", "vineyardfs-example")
check(app["spec"]["schedulerName"] == profile, "the example is placed by the vineyardfs scheduler")
check(app["metadata"]["annotations"].get("vineyardfs.io/required"), "the example names what it needs")
am = app["spec"]["containers"][0]["volumeMounts"][0]
check(am["mountPath"] == "/vineyard" and am.get("mountPropagation") == "HostToContainer",
      "the example sees /vineyard with HostToContainer")
check(not app["spec"]["containers"][0].get("securityContext", {}).get("privileged"), "the example is not privileged")

cf = open(sys.argv[3]).read()
froms = re.findall(r"^FROM\s+(\S+)", cf, re.M)
check(froms and all(f == "debian:12" for f in froms), "the Containerfile builds from debian:12 only: %s" % froms)
check("pip " not in cf and "curl " not in cf, "the Containerfile installs Debian packages only")

# The systemd unit: its ExecStart and ExecStop are commands this vineyardfs
# takes (with an example of /etc/default/vineyardfs's options).
unit = {}
for line in open(sys.argv[3].replace("Containerfile", "vineyardfs.service")):
    if "=" in line and not line.startswith("#"):
        k, v = line.rstrip("\n").split("=", 1)
        unit[k] = v
start = unit["ExecStart"].replace("$VINEYARDFS_OPTS", "--memory 8G --spill-dir /var/lib/vineyardfs/spill").split()
check(start[0] == "/usr/bin/vineyardfs" and "--supervise" in start and "--foreground" in start,
      "the unit runs vineyardfs mount --foreground --supervise: %s" % start)
accepts(["vineyardfs"] + start[1:], "the systemd unit")
check(unit["ExecStop"].split()[1:] == ["umount", "/vineyard"], "the unit unmounts at stop")
check(unit.get("Type") == "simple" and unit.get("WantedBy") == "multi-user.target", "a simple service, enabled at boot")

if fails:
    for f in fails:
        print("FAIL [deploy]:", f)
    sys.exit(1)
print("deploy: %d objects rendered: %s" % (len(docs), ", ".join(kinds)))
PYEOF
echo "PASS: deploy"
