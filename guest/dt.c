/* The partition's device tree: see <guest/dt.h>. */
#include <bulkhead/fdt.h>
#include <guest/dt.h>
#include <string.h>

bool guest_dt(struct fdt *f, const char **error)
{
	const void *blob = guest_dtb();

	if (blob == NULL) {
		*error = "no device tree was passed (x0 was 0)";
		return false;
	}
	return fdt_init(f, blob, GUEST_DT_MAX, error);
}

/* Walks the tree, keeping the path of the current node; calls `visit` for
 * each property and each node begin, until it returns false or the tree
 * ends. False if the tree is malformed or the path too long. */
struct walk {
	char path[GUEST_DT_PATH_MAX];
	size_t ends[FDT_MAX_DEPTH + 1]; /* path length at each depth */
};

typedef bool (*visit_fn)(const struct walk *w, int depth,
			 const struct fdt_token *t, void *ctx);

static bool walk(const struct fdt *f, visit_fn visit, void *ctx)
{
	struct walk w = {.path = "/", .ends = {0}};
	uint32_t cursor = 0;
	int depth = 0;

	for (;;) {
		struct fdt_token t = fdt_next(f, &cursor, &depth);

		if (t.kind == FDT_TOKEN_END) {
			return true;
		}
		if (t.kind == FDT_TOKEN_ERROR) {
			return false;
		}
		if (t.kind == FDT_TOKEN_END_NODE && depth >= 1) {
			/* back in the parent (depth is the parent's now) */
			size_t at = depth == 1 ? 1 : w.ends[depth];

			w.path[at] = '\0';
		}
		if (t.kind == FDT_TOKEN_BEGIN_NODE) {
			size_t at = depth <= 1 ? 0 : w.ends[depth - 1];

			if (depth > 1) {
				if (at + 1 + t.name_len + 1 > sizeof(w.path)) {
					return false;
				}
				w.path[at++] = '/';
				memcpy(&w.path[at], t.name, t.name_len);
				at += t.name_len;
			} else {
				at = 1; /* the root: "/" */
			}
			w.path[at] = '\0';
			w.ends[depth] = depth <= 1 ? 0 : at;
		}
		if (t.kind != FDT_TOKEN_END_NODE &&
		    !visit(&w, depth, &t, ctx)) {
			return true;
		}
	}
}

struct find_prop {
	const char *path;
	const char *prop;
	const uint8_t *value;
	uint32_t len;
	bool found;
};

static bool find_prop_visit(const struct walk *w, int depth,
			    const struct fdt_token *t, void *ctx)
{
	struct find_prop *fp = ctx;

	(void)depth;
	if (t->kind == FDT_TOKEN_PROP && strcmp(w->path, fp->path) == 0 &&
	    t->name_len == strlen(fp->prop) &&
	    memcmp(t->name, fp->prop, t->name_len) == 0) {
		fp->value = t->value;
		fp->len = t->len;
		fp->found = true;
		return false;
	}
	return true;
}

bool guest_dt_prop(const struct fdt *f, const char *path, const char *prop,
		   const uint8_t **value, uint32_t *len)
{
	struct find_prop fp = {.path = path, .prop = prop};

	if (!walk(f, find_prop_visit, &fp) || !fp.found) {
		return false;
	}
	*value = fp.value;
	*len = fp.len;
	return true;
}

struct children {
	const char *path;
	size_t path_len;
	int depth; /* of the parent; 0 until found */
	guest_dt_child_fn fn;
	void *ctx;
	uint32_t count;
};

static bool children_visit(const struct walk *w, int depth,
			   const struct fdt_token *t, void *ctx)
{
	struct children *c = ctx;

	if (t->kind != FDT_TOKEN_BEGIN_NODE) {
		return true;
	}
	if (c->depth == 0 && strcmp(w->path, c->path) == 0) {
		c->depth = depth;
	} else if (c->depth != 0 && depth == c->depth + 1 &&
		   strncmp(w->path, c->path, c->path_len) == 0) {
		c->count++;
		if (c->fn != NULL) {
			c->fn(t->name, t->name_len, c->ctx);
		}
	} else if (c->depth != 0 && depth <= c->depth) {
		return false; /* past the parent */
	}
	return true;
}

uint32_t guest_dt_children(const struct fdt *f, const char *path,
			   guest_dt_child_fn fn, void *ctx)
{
	struct children c = {.path = path,
			     .path_len =
				 strcmp(path, "/") == 0 ? 0 : strlen(path),
			     .fn = fn,
			     .ctx = ctx};

	return walk(f, children_visit, &c) ? c.count : 0;
}

bool guest_dt_string(const struct fdt *f, const char *path, const char *prop,
		     const char **out)
{
	const uint8_t *value;
	uint32_t len;

	if (!guest_dt_prop(f, path, prop, &value, &len) || len == 0 ||
	    value[len - 1] != '\0') {
		return false;
	}
	*out = (const char *)value;
	return true;
}
