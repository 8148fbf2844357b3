#include <core/mpool.h>

#include <string.h>

struct mpool_page {
	struct mpool_page *next;
};

void mpool_fail_after(struct mpool *p, long allowed)
{
	sl_lock(&p->lock);
	p->fail_after = allowed;
	sl_unlock(&p->lock);
}

/* False when fault injection says `pages` more pages may not leave `p`;
 * caller holds p->lock. */
static bool injection_allows(struct mpool *p, size_t pages)
{
	if (p->fail_after < 0) {
		return true;
	}
	if ((size_t)p->fail_after < pages) {
		p->fail_after = 0;
		return false;
	}
	p->fail_after -= (long)pages;
	return true;
}

void mpool_init(struct mpool *p)
{
	p->lock = (struct spinlock)SPINLOCK_INIT;
	p->head = NULL;
	p->count = 0;
	p->fail_after = -1;
}

static void push(struct mpool *p, void *page)
{
	struct mpool_page *e = page;

	e->next = p->head;
	p->head = e;
	p->count++;
}

static void *pop(struct mpool *p)
{
	struct mpool_page *e = p->head;

	if (e != NULL) {
		p->head = e->next;
		p->count--;
	}
	return e;
}

void mpool_add(struct mpool *p, void *begin, size_t size)
{
	uint64_t start = align_up((uintptr_t)begin, PAGE_SIZE);
	uint64_t end = align_down((uintptr_t)begin + size, PAGE_SIZE);

	sl_lock(&p->lock);
	for (uint64_t a = start; a + PAGE_SIZE <= end; a += PAGE_SIZE) {
		push(p, (void *)(uintptr_t)a);
	}
	sl_unlock(&p->lock);
}

void *mpool_alloc_uninit(struct mpool *p)
{
	void *page = NULL;

	sl_lock(&p->lock);
	if (p->count > 0 && injection_allows(p, 1)) {
		page = pop(p);
	}
	sl_unlock(&p->lock);
	return page;
}

void *mpool_alloc(struct mpool *p)
{
	void *page = mpool_alloc_uninit(p);

	if (page != NULL) {
		memset(page, 0, PAGE_SIZE);
	}
	return page;
}

void mpool_free(struct mpool *p, void *page)
{
	sl_lock(&p->lock);
	push(p, page);
	sl_unlock(&p->lock);
}

size_t mpool_count(struct mpool *p)
{
	size_t n;

	sl_lock(&p->lock);
	n = p->count;
	sl_unlock(&p->lock);
	return n;
}

bool mpool_take(struct mpool *to, struct mpool *from, size_t count)
{
	bool ok = false;

	if (count == 0) {
		return true;
	}
	sl_lock(&from->lock);
	if (from->count >= count && injection_allows(from, count)) {
		sl_lock(&to->lock);
		for (size_t i = 0; i < count; i++) {
			push(to, pop(from));
		}
		sl_unlock(&to->lock);
		ok = true;
	}
	sl_unlock(&from->lock);
	return ok;
}

void mpool_give_all(struct mpool *to, struct mpool *from)
{
	sl_lock(&from->lock);
	sl_lock(&to->lock);
	while (from->count > 0) {
		push(to, pop(from));
	}
	sl_unlock(&to->lock);
	sl_unlock(&from->lock);
}
