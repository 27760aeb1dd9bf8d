// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel crypto API's `static inline` AEAD calls (rust/sys/aead.rs),
 * and one request's memory: a job holds the caller's completion, the IV,
 * the scatterlist and the request, whose context must come last.
 */
#include <crypto/aead.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "../../include/rxfrm_helpers.h"

struct crypto_aead *rxfrm_aead_alloc(const char *name) { return crypto_alloc_aead(name, 0, 0); }
void rxfrm_aead_free(struct crypto_aead *tfm) { crypto_free_aead(tfm); }
bool rxfrm_aead_is_err(const struct crypto_aead *tfm) { return IS_ERR_OR_NULL(tfm); }
long rxfrm_aead_err(const struct crypto_aead *tfm) { return tfm ? PTR_ERR(tfm) : -ENOMEM; }
unsigned int rxfrm_aead_ivsize(struct crypto_aead *tfm) { return crypto_aead_ivsize(tfm); }
unsigned int rxfrm_aead_authsize(struct crypto_aead *tfm) { return crypto_aead_authsize(tfm); }

struct rxfrm_aead_job {
	void (*done)(void *, int);
	void *data;
	struct scatterlist sg;
	u8 iv[RXFRM_AEAD_IV_MAX];
	struct aead_request req CRYPTO_MINALIGN_ATTR;
};

struct rxfrm_aead_job *rxfrm_aead_job_alloc(struct crypto_aead *tfm)
{
	return kmalloc(sizeof(struct rxfrm_aead_job) + crypto_aead_reqsize(tfm), GFP_ATOMIC);
}

void rxfrm_aead_job_free(struct rxfrm_aead_job *job) { kfree_sensitive(job); }

static void rxfrm_aead_complete(void *data, int err)
{
	struct rxfrm_aead_job *job = data;

	/* Only a backlogged request reports -EINPROGRESS; none is backlogged. */
	if (err == -EINPROGRESS)
		return;
	job->done(job->data, err);
	kfree_sensitive(job);
}

/*
 * One request over one linear buffer: `assoclen` bytes authenticated only,
 * then `cryptlen` bytes, then (encrypting) room for the ICV. `iv` holds
 * the transform's ivsize bytes (the caller checked they fit).
 */
int rxfrm_aead_run(struct rxfrm_aead_job *job, struct crypto_aead *tfm, bool encrypt,
		   u8 *buf, unsigned int assoclen, unsigned int cryptlen,
		   const u8 *iv, void (*done)(void *, int), void *data)
{
	unsigned int total = assoclen + cryptlen + (encrypt ? crypto_aead_authsize(tfm) : 0);

	job->done = done;
	job->data = data;
	memcpy(job->iv, iv, crypto_aead_ivsize(tfm));
	sg_init_one(&job->sg, buf, total);
	aead_request_set_tfm(&job->req, tfm);
	aead_request_set_callback(&job->req, 0, rxfrm_aead_complete, job);
	aead_request_set_crypt(&job->req, &job->sg, &job->sg, cryptlen, job->iv);
	aead_request_set_ad(&job->req, assoclen);
	return encrypt ? crypto_aead_encrypt(&job->req) : crypto_aead_decrypt(&job->req);
}
