/* libFuzzer target: the agent's request parser and JSON writer
 * (guest/init-agent/proto.c, linked as is: it has no main and needs
 * nothing but libc).
 * Checks, besides "no crash, no leak": every string the parser accepts
 * survives a write/parse round trip byte for byte, and every reply the
 * writer produces parses again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

static char line[IA_LINE_MAX + 1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ia_req r, r2;
	struct ia_json j = {0};
	const char *s;
	size_t n;
	long long i;
	int b;
	unsigned m;
	struct ia_str *arr;

	if (size > IA_LINE_MAX)
		return 0;
	memcpy(line, data, size);
	line[size] = 0;
	if (ia_req_parse(&r, line, size))
		return 0;

	/* the accessors on the keys the ops use, with any types */
	static const char *keys[] = {"path", "data", "hex",   "mode",	"max",	  "follow",
				     "argv", "env",  "flags", "status", "signal", "members"};
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		ia_arg_str(&r, keys[k], &s, &n);
		ia_need_str(&r, keys[k], &s);
		ia_arg_int(&r, keys[k], &i);
		ia_arg_bool(&r, keys[k], &b);
		ia_arg_mode(&r, keys[k], &m);
		ia_arg_arr(&r, keys[k], &arr, &n);
	}

	/* echo every field back: strings and string arrays must round-trip */
	ia_json_obj(&j, NULL);
	for (int f = 0; f < r.nf; f++) {
		struct ia_val *v = &r.f[f];
		switch (v->type) {
		case IA_STR:
			ia_json_strn(&j, v->key, v->s.s, v->s.len);
			break;
		case IA_INT:
			ia_json_int(&j, v->key, v->i);
			break;
		case IA_BOOL:
			ia_json_bool(&j, v->key, (int)v->i);
			break;
		case IA_NULL:
			ia_json_null(&j, v->key);
			break;
		case IA_ARR:
			ia_json_arr(&j, v->key);
			for (size_t e = 0; e < v->n; e++)
				ia_json_strn(&j, NULL, v->arr[e].s, v->arr[e].len);
			ia_json_end(&j, ']');
			break;
		default:
			break;
		}
	}
	ia_json_end(&j, '}');
	if (j.oom)
		abort();

	/* keep copies of the originals: the second parse reuses the pool */
	size_t nf = (size_t)r.nf;
	struct {
		enum ia_type t;
		char *s;
		size_t len;
		long long i;
		size_t n;
	} *orig = calloc(nf + 1, sizeof(*orig));
	for (size_t f = 0; f < nf; f++) {
		orig[f].t = r.f[f].type;
		orig[f].i = r.f[f].i;
		if (r.f[f].type == IA_STR) {
			orig[f].s = malloc(r.f[f].s.len + 1);
			memcpy(orig[f].s, r.f[f].s.s, r.f[f].s.len);
			orig[f].len = r.f[f].s.len;
		}
		if (r.f[f].type == IA_ARR)
			orig[f].n = r.f[f].n;
	}
	char *copy = malloc(j.len + 1);
	memcpy(copy, j.buf, j.len + 1);
	if (j.len > IA_LINE_MAX * 7 || ia_req_parse(&r2, copy, j.len))
		abort(); /* the writer produced something the parser refuses */
	/* keys that occur once keep their position; compare those */
	if ((size_t)r2.nf > nf)
		abort();
	for (int f = 0; f < r2.nf; f++) {
		struct ia_val *v = &r2.f[f];
		for (size_t o = 0; o < nf; o++) {
			if (strcmp(r.f[o].key, v->key))
				continue;
			if (orig[o].t == IA_STR && (v->type != IA_STR || v->s.len != orig[o].len ||
						    memcmp(v->s.s, orig[o].s, orig[o].len)))
				abort();
			if (orig[o].t == IA_INT && (v->type != IA_INT || v->i != orig[o].i))
				abort();
			if (orig[o].t == IA_ARR && (v->type != IA_ARR || v->n != orig[o].n))
				abort();
		}
	}
	for (size_t f = 0; f < nf; f++)
		free(orig[f].s);
	free(orig);
	free(copy);
	free(j.buf);
	return 0;
}
