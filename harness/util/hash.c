/* SHA-256 through OpenSSL's EVP interface (cache keys, report digests). */
#include "util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <unistd.h>

void bl_sha256_init(struct bl_sha256 *h)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL))
		abort();
	h->ctx = c;
}

void bl_sha256_update(struct bl_sha256 *h, const void *data, size_t n)
{
	EVP_DigestUpdate(h->ctx, data, n);
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
	unsigned int n = 0;
	EVP_DigestFinal_ex(h->ctx, md, &n);
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}
