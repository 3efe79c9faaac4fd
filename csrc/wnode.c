// SPDX-License-Identifier: 0BSD
/** wnode: directory nodes, their references and their paths. */

#include "wnode.h"
#include "wfd.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int wbytes_reserve(struct wbytes *b, size_t more) {
	if (b->cap - b->len >= more) {
		return 0;
	}
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < more) {
		cap *= 2;
	}
	uint8_t *data = realloc(b->data, cap);
	if (!data) {
		return -ENOMEM;
	}
	b->data = data;
	b->cap = cap;
	return 0;
}

int wbytes_append(struct wbytes *b, const void *data, size_t len) {
	int ret = wbytes_reserve(b, len);
	if (ret == 0 && len) {
		memcpy(b->data + b->len, data, len);
		b->len += len;
	}
	return ret;
}

void wbytes_free(struct wbytes *b) {
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

struct wnode *wnode_new(struct wnode *parent, const char *name, size_t len, enum wnode_kind kind) {
	struct wnode *n = malloc(sizeof(*n) + len);
	if (!n) {
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	n->parent = parent;
	n->refs = 1;
	n->fd = -1;
	n->kind = (uint8_t)kind;
	n->state = WNODE_UNREAD;
	n->namelen = (uint16_t)len;
	if (len) {
		memcpy(n->name, name, len);
	}
	if (parent) {
		++parent->refs;
		n->depth = kind == WNODE_END ? parent->depth : parent->depth + 1;
	}
	return n;
}

void wnode_ref(struct wnode *n) {
	++n->refs;
}

/** Free a chunk (one allocation). */
static void wnode_free_chunk(struct wchunk *c) {
	free(c);
}

void wnode_unref(struct ioq_walk *w, struct wnode *n) {
	while (n && --n->refs == 0) {
		struct wnode *parent = n->parent;
		if (n->fd >= 0) {
			wfd_drop(w, n);
		}
		wnode_free_chunk(n->chunk);
		wnode_free_chunk(n->self);
		wign_free(n->ign);
		free(n->prefix);
		free(n);
		n = parent;
	}
}

/** The prefix a node's entries start with, if it is stored (the root's, or an override). */
static const uint8_t *wnode_stored_prefix(const struct ioq_walk *w, const struct wnode *n, uint32_t *len) {
	if (n->prefix) {
		*len = n->prefix_len;
		return n->prefix;
	}
	if (n->kind == WNODE_ROOT) {
		*len = w->root_prefix_len;
		return w->root_prefix;
	}
	return NULL;
}

int wnode_prefix(const struct ioq_walk *w, const struct wnode *n, struct wbytes *out) {
	// Climb to the nearest stored prefix, counting the names on the way
	size_t total = 0;
	const struct wnode *base = n;
	uint32_t base_len = 0;
	const uint8_t *stored;
	while (!(stored = wnode_stored_prefix(w, base, &base_len))) {
		total += base->namelen + 1;
		base = base->parent;
	}
	total += base_len;

	out->len = 0;
	int ret = wbytes_reserve(out, total);
	if (ret != 0) {
		return ret;
	}
	memcpy(out->data, stored, base_len);
	// Fill the names in from the end
	size_t end = total;
	for (const struct wnode *m = n; m != base; m = m->parent) {
		out->data[--end] = '/';
		end -= m->namelen;
		memcpy(out->data + end, m->name, m->namelen);
	}
	out->len = total;
	return 0;
}

int wnode_relpath(const struct ioq_walk *w, const struct wnode *n, const struct wnode *at, struct wbytes *out) {
	size_t total = 0;
	for (const struct wnode *m = n; m != at; m = m->parent) {
		total += m->kind == WNODE_ROOT ? w->root_len : (size_t)m->namelen + (m->parent != at);
	}

	out->len = 0;
	int ret = wbytes_reserve(out, total + 1);
	if (ret != 0) {
		return ret;
	}
	size_t end = total;
	out->data[end] = 0;
	for (const struct wnode *m = n; m != at; m = m->parent) {
		if (m->kind == WNODE_ROOT) {
			end -= w->root_len;
			memcpy(out->data + end, w->root, w->root_len);
			break;
		}
		end -= m->namelen;
		memcpy(out->data + end, m->name, m->namelen);
		if (m->parent != at) {
			out->data[--end] = '/';
		}
	}
	out->len = total;
	return 0;
}
