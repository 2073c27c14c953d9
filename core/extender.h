/*
 * extender: a Kubernetes scheduler extender (k8s.io/kube-scheduler/
 * extender/v1) that places a Pod on the nodes holding the bytes of the
 * objects it needs, from the cluster's keys in etcd (cluster.h's layout).
 *
 * A Pod names what it needs in the annotation vineyardfs.io/required
 * ("name1,name2"); Vineyard's scheduling.k8s.v6d.io/required is read too,
 * each job in it taken as the name of a published object (a v6d job's
 * output published under the job's name). A name leads to its object
 * (P names/<name>) and to the blobs of its tree with their sizes
 * (P objects/<id>); a blob is held by the member whose instance its id
 * carries (a global object's chunks by their several owners), on the node
 * that member's key names. Fetched copies are caches and do not count.
 *
 *   prioritize: each node's score is the share of those bytes held by
 *               members on it, 0 to 10 (MaxExtenderPriority), rounded to
 *               the nearest; all 0 when the Pod names nothing, or
 *               nothing known.
 *   filter:     keeps the nodes that run a live member (a member key
 *               exists only while its lease lives); with EXTENDER_FILTER_ALL
 *               every node passes.
 *
 * The wire format: the types have no JSON tags, so their fields are the
 * Go names ("Pod", "Nodes", "NodeNames"; "Host", "Score"), which the
 * scheduler matches without regard to case; we read them so too. The Pod
 * and the Nodes are Kubernetes objects with their usual lowercase keys.
 * With nodeCacheCapable the scheduler sends NodeNames and wants NodeNames
 * back; without, the whole NodeList, and the filtered NodeList back.
 * Each request reads etcd afresh: a few small reads, once per Pod.
 */
#ifndef VFS_EXTENDER_H
#define VFS_EXTENDER_H

#include <stddef.h>

#include <jansson.h>

#define EXTENDER_ANNOTATION "vineyardfs.io/required"
#define EXTENDER_V6D_ANNOTATION "scheduling.k8s.v6d.io/required"
#define EXTENDER_MAX_PRIORITY 10
#define EXTENDER_MAX_BODY (8u << 20) /* a NodeList of thousands of nodes */

typedef struct extender extender_t;

enum extender_filter {
	EXTENDER_FILTER_LIVE, /* nodes that run a live member */
	EXTENDER_FILTER_ALL,  /* every node */
};

/* What a request says, parsed (extender_args_parse). */
struct extender_args {
	char **required; /* object names the Pod needs, no duplicates */
	size_t nrequired, required_cap;
	char **nodes; /* the candidate nodes' names, in order */
	size_t nnodes, nodes_cap;
	json_t *node_list; /* the NodeList when sent whole (borrowed from doc), else NULL */
	json_t *doc;	   /* the parsed body (owned) */
	char pod[256];	   /* namespace/name, for messages */
};

/* Parse an ExtenderArgs body: 0, or -EINVAL with the reason in err. Free
 * with extender_args_free. No etcd: the fuzzer's entry point. */
int extender_args_parse(const char *body, size_t len, struct extender_args *a, char *err, size_t errlen);
void extender_args_free(struct extender_args *a);

/* A client of etcd (endpoints as etcd_open) for cluster name. */
int extender_create(const char *etcd, const char *cluster, enum extender_filter filter, extender_t **out);
void extender_destroy(extender_t *x);

/* Answer verb ("filter", "prioritize") for a request body: the HTTP
 * status, and the reply (JSON for 200, a message otherwise) in *reply,
 * caller frees. 400 for a bad body, 404 for another verb, 503 when etcd
 * cannot be read for a prioritize (a filter says so in its Error). */
unsigned extender_handle(
    extender_t *x, const char *verb, const char *body, size_t len, char **reply, size_t *replylen);

#endif
