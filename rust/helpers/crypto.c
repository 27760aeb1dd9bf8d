// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel crypto API's `static inline` calls: AEADs (ESP,
 * rust/sys/aead.rs), keyed hashes (AH, rust/sys/ahash.rs) and compression
 * (IPcomp, rust/sys/comp.rs). A job holds one request's memory: the
 * caller's completion, the IV, the scatterlist and the request, whose
 * context must come last.
 */
#include <crypto/aead.h>
#include <crypto/algapi.h>
#include <crypto/hash.h>
#include <linux/crypto.h>
#include <linux/percpu.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "../../include/rxfrm_helpers.h"

/* sync_only: an implementation without CRYPTO_ALG_ASYNC (what cryptd wraps). */
struct crypto_aead *rxfrm_aead_alloc(const char *name, bool sync_only)
{
	return crypto_alloc_aead(name, 0, sync_only ? CRYPTO_ALG_ASYNC : 0);
}
void rxfrm_aead_free(struct crypto_aead *tfm) { crypto_free_aead(tfm); }
bool rxfrm_aead_is_err(const struct crypto_aead *tfm) { return IS_ERR_OR_NULL(tfm); }
long rxfrm_aead_err(const struct crypto_aead *tfm) { return tfm ? PTR_ERR(tfm) : -ENOMEM; }
unsigned int rxfrm_aead_ivsize(struct crypto_aead *tfm) { return crypto_aead_ivsize(tfm); }
const char *rxfrm_aead_driver_name(struct crypto_aead *tfm)
{
	return crypto_tfm_alg_driver_name(crypto_aead_tfm(tfm));
}
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
	/* Under RCU: teardown drains in-flight work, then waits a grace period
	 * (rust/sys/inflight.rs), so nothing here still runs after it. */
	rcu_read_lock();
	job->done(job->data, err);
	kfree_sensitive(job);
	rcu_read_unlock();
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

/* ---- keyed hashes (AH) -------------------------------------------------- */

struct crypto_ahash *rxfrm_ahash_alloc(const char *name, bool sync_only)
{
	return crypto_alloc_ahash(name, 0, sync_only ? CRYPTO_ALG_ASYNC : 0);
}
void rxfrm_ahash_free(struct crypto_ahash *tfm) { crypto_free_ahash(tfm); }
bool rxfrm_ahash_is_err(const struct crypto_ahash *tfm) { return IS_ERR_OR_NULL(tfm); }
long rxfrm_ahash_err(const struct crypto_ahash *tfm) { return tfm ? PTR_ERR(tfm) : -ENOMEM; }
unsigned int rxfrm_ahash_digestsize(struct crypto_ahash *tfm) { return crypto_ahash_digestsize(tfm); }
const char *rxfrm_ahash_driver_name(struct crypto_ahash *tfm)
{
	return crypto_tfm_alg_driver_name(crypto_ahash_tfm(tfm));
}

struct rxfrm_ahash_job {
	void (*done)(void *, int);
	void *data;
	struct scatterlist sg[2];
	struct ahash_request req CRYPTO_MINALIGN_ATTR;
};

struct rxfrm_ahash_job *rxfrm_ahash_job_alloc(struct crypto_ahash *tfm)
{
	return kmalloc(sizeof(struct rxfrm_ahash_job) + crypto_ahash_reqsize(tfm), GFP_ATOMIC);
}

void rxfrm_ahash_job_free(struct rxfrm_ahash_job *job) { kfree_sensitive(job); }

static void rxfrm_ahash_complete(void *data, int err)
{
	struct rxfrm_ahash_job *job = data;

	if (err == -EINPROGRESS)
		return;
	rcu_read_lock();
	job->done(job->data, err);
	kfree_sensitive(job);
	rcu_read_unlock();
}

/* The digest of `len` bytes at `buf`, then `extra_len` at `extra` (heap
 * memory, as scatterlists require), into `out` (digestsize bytes). */
int rxfrm_ahash_run(struct rxfrm_ahash_job *job, struct crypto_ahash *tfm, const u8 *buf,
		    unsigned int len, const u8 *extra, unsigned int extra_len, u8 *out,
		    void (*done)(void *, int), void *data)
{
	job->done = done;
	job->data = data;
	sg_init_table(job->sg, extra_len ? 2 : 1);
	sg_set_buf(&job->sg[0], buf, len);
	if (extra_len)
		sg_set_buf(&job->sg[1], extra, extra_len);
	ahash_request_set_tfm(&job->req, tfm);
	ahash_request_set_callback(&job->req, 0, rxfrm_ahash_complete, job);
	ahash_request_set_crypt(&job->req, job->sg, out, len + extra_len);
	return crypto_ahash_digest(&job->req);
}

int rxfrm_crypto_memneq(const void *a, const void *b, size_t n) { return crypto_memneq(a, b, n); }

/* ---- compression (IPcomp) ----------------------------------------------- */

/* One scratch buffer per CPU, shared by every compressor (as xfrm_ipcomp's). */
static void * __percpu *rxfrm_comp_scratches;

int rxfrm_comp_scratch_alloc(void)
{
	int cpu;

	rxfrm_comp_scratches = alloc_percpu(void *);
	if (!rxfrm_comp_scratches)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		void *s = vmalloc_node(RXFRM_COMP_SCRATCH, cpu_to_node(cpu));

		if (!s) {
			rxfrm_comp_scratch_free();
			return -ENOMEM;
		}
		*per_cpu_ptr(rxfrm_comp_scratches, cpu) = s;
	}
	return 0;
}

void rxfrm_comp_scratch_free(void)
{
	int cpu;

	if (!rxfrm_comp_scratches)
		return;
	for_each_possible_cpu(cpu)
		vfree(*per_cpu_ptr(rxfrm_comp_scratches, cpu));
	free_percpu(rxfrm_comp_scratches);
	rxfrm_comp_scratches = NULL;
}

/* One `alg` transform per CPU: a deflate stream is not reentrant. */
struct crypto_comp * __percpu *rxfrm_comp_tfms_new(const char *alg)
{
	struct crypto_comp * __percpu *tfms = alloc_percpu(struct crypto_comp *);
	int cpu;

	if (!tfms)
		return NULL;
	for_each_possible_cpu(cpu) {
		struct crypto_comp *tfm = crypto_alloc_comp(alg, 0, 0);

		if (IS_ERR(tfm)) {
			rxfrm_comp_tfms_free(tfms);
			return NULL;
		}
		*per_cpu_ptr(tfms, cpu) = tfm;
	}
	return tfms;
}

void rxfrm_comp_tfms_free(struct crypto_comp * __percpu *tfms)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct crypto_comp *tfm = *per_cpu_ptr(tfms, cpu);

		if (!IS_ERR_OR_NULL(tfm))
			crypto_free_comp(tfm);
	}
	free_percpu(tfms);
}

/* (De)compresses `slen` bytes at `src` into this CPU's scratch with this
 * CPU's transform, and hands the result to `take` while both are still
 * this call's (softirqs off). Returns an errno, or what `take` returns. */
int rxfrm_comp_run(struct crypto_comp * __percpu *tfms, bool compress, const u8 *src,
		   unsigned int slen, int (*take)(void *, const u8 *, unsigned int), void *data)
{
	unsigned int dlen = RXFRM_COMP_SCRATCH;
	struct crypto_comp *tfm;
	u8 *scratch;
	int err;

	local_bh_disable();
	scratch = *this_cpu_ptr(rxfrm_comp_scratches);
	tfm = *this_cpu_ptr(tfms);
	err = compress ? crypto_comp_compress(tfm, src, slen, scratch, &dlen) :
			 crypto_comp_decompress(tfm, src, slen, scratch, &dlen);
	if (!err)
		err = take(data, scratch, dlen);
	local_bh_enable();
	return err;
}
