/* SHA-256 through OpenSSL's low-level SHA256_* calls (cache keys, report
 * digests): the same assembly as EVP, without EVP's first-call provider
 * set-up, which costs ~1.2 ms on every bootlab run (measured) and that
 * run's kernel lookup needs a hash at once. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>
#include <unistd.h>

void bl_sha256_init(struct bl_sha256 *h)
{
	SHA256_CTX *c = malloc(sizeof(*c));
	if (!c || !SHA256_Init(c))
		abort();
	h->ctx = c;
}

void bl_sha256_update(struct bl_sha256 *h, const void *data, size_t n)
{
	SHA256_Update(h->ctx, data, n);
}

void bl_sha256_update_str(struct bl_sha256 *h, const char *s)
{
	bl_sha256_update(h, s ? s : "", (s ? strlen(s) : 0) + 1);
}

int bl_sha256_update_file(struct bl_sha256 *h, const char *path)
{
	char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bl_err_errno("cannot open '%s'", path);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			close(fd);
			return bl_err_errno("cannot read '%s'", path);
		}
		if (n == 0)
			break;
		bl_sha256_update(h, buf, (size_t)n);
	}
	close(fd);
	return 0;
}

void bl_sha256_final_hex(struct bl_sha256 *h, char out[65])
{
	unsigned char md[32];
	SHA256_Final(md, h->ctx);
	free(h->ctx);
	h->ctx = NULL;
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int bl_sha256_file_hex(const char *path, char out[65])
{
	struct bl_sha256 h;
	bl_sha256_init(&h);
	int rc = bl_sha256_update_file(&h, path);
	bl_sha256_final_hex(&h, out);
	return rc;
}
