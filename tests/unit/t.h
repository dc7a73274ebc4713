/* Tiny TAP harness for unit tests: table-friendly, no allocation.
 *   T_OK(cond, "name %d", i)      one test point
 *   T_EQ_INT(a, b, "name")        with the values on failure
 *   T_EQ_STR(a, b, "name")
 *   T_SKIP("reason", "name")     a failure under CI=true (tests/run)
 *   T_SKIP_UNFIXABLE("reason", "name")  a skip no set-up can fix
 *   return t_done();              exit status 1 when anything failed */
#ifndef BL_T_H
#define BL_T_H
#include <stdio.h>
#include <string.h>

static int t_n, t_failed;

#define T_OK(cond, ...)                                                                            \
	({                                                                                         \
		int t_c_ = !!(cond);                                                               \
		printf("%sok %d - ", t_c_ ? "" : "not ", ++t_n);                                   \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		if (!t_c_) {                                                                       \
			t_failed++;                                                                \
			printf("#   at %s:%d: %s\n", __FILE__, __LINE__, #cond);                   \
		}                                                                                  \
		fflush(stdout);                                                                    \
		t_c_;                                                                              \
	})
#define T_EQ_INT(a, b, ...)                                                                        \
	({                                                                                         \
		long long t_a_ = (long long)(a), t_b_ = (long long)(b);                            \
		int t_r_ = T_OK(t_a_ == t_b_, __VA_ARGS__);                                        \
		if (!t_r_)                                                                         \
			printf("#   got %lld, want %lld\n", t_a_, t_b_);                           \
		t_r_;                                                                              \
	})
#define T_EQ_STR(a, b, ...)                                                                        \
	({                                                                                         \
		const char *t_a_ = (a), *t_b_ = (b);                                               \
		int t_r_ = T_OK(t_a_ && t_b_ && strcmp(t_a_, t_b_) == 0, __VA_ARGS__);             \
		if (!t_r_)                                                                         \
			printf("#   got '%s', want '%s'\n", t_a_ ? t_a_ : "(null)",                \
			       t_b_ ? t_b_ : "(null)");                                            \
		t_r_;                                                                              \
	})
#define T_SKIP(reason, ...)                                                                        \
	do {                                                                                       \
		printf("ok %d - ", ++t_n);                                                         \
		printf(__VA_ARGS__);                                                               \
		printf(" # SKIP %s\n", reason);                                                    \
	} while (0)

#define T_SKIP_UNFIXABLE(reason, ...) T_SKIP("unfixable: " reason, __VA_ARGS__)

static inline int t_done(void)
{
	printf("1..%d\n", t_n);
	return t_failed ? 1 : 0;
}
#endif
