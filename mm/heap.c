/*
 * Kernel heap. Objects of up to 2048 bytes come from one-page slabs of a single size class; the
 * slab header sits at the start of the page, so a pointer finds its slab by rounding down. Larger
 * objects get 2^order pages of their own with a small header in front. Both headers carry a magic
 * and their own address (a copy of a header elsewhere does not validate), and every slab object
 * has a size slot that is SLOT_FREE while the object is free: heap_free() checks all of these
 * before it changes anything, so a bad pointer costs a counter, not the heap.
 */
#include "mm/heap.h"

#include "kernel/string.h"
#include "kernel/types.h"

#define HEAP_PAGE 4096u
#define SLAB_MAGIC 0x534c4142u  /* "SLAB" */
#define LARGE_MAGIC 0x4c524745u /* "LRGE" */
#define SLOT_FREE 0xffffu
#define SLOT_NONE 0xffffu
#define MIN_CLASS_SIZE 16u
#define MAX_CLASS_SIZE (MIN_CLASS_SIZE << (HEAP_SIZE_CLASSES - 1))
#define LARGE_MAX_ORDER 20 /* 4 GiB: anything larger is a caller bug */

struct heap_slab {
    uint32_t magic;
    uint16_t cls;
    uint16_t obj_size;
    uint16_t capacity;
    uint16_t in_use;
    uint16_t free_head;  /* index of the first free object; its first bytes hold the next one */
    uint16_t obj_offset; /* from the page start, 16-byte aligned */
    struct heap_slab *self;
    struct heap *owner;
    struct heap_slab *next; /* partial list */
    struct heap_slab *prev;
    uint16_t req[]; /* bytes requested per object, SLOT_FREE when free */
};

struct heap_large {
    uint32_t magic;
    uint32_t order;
    uint64_t size;
    struct heap_large *self;
    struct heap *owner;
};

_Static_assert(sizeof(struct heap_large) % 16 == 0, "large object must stay 16-byte aligned");
_Static_assert(MAX_CLASS_SIZE == 2048, "size classes are 16 .. 2048");

void heap_init(struct heap *h, const struct heap_page_source *src)
{
    memset(h, 0, sizeof(*h));
    h->src = *src;
}

static unsigned size_class(size_t size)
{
    unsigned c = 0;
    while ((size_t)(MIN_CLASS_SIZE << c) < size)
        c++;
    return c;
}

static void partial_insert(struct heap *h, struct heap_slab *s)
{
    s->prev = NULL;
    s->next = h->partial[s->cls];
    if (s->next)
        s->next->prev = s;
    h->partial[s->cls] = s;
}

static void partial_remove(struct heap *h, struct heap_slab *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        h->partial[s->cls] = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

static void *obj_addr(const struct heap_slab *s, unsigned i)
{
    return (uint8_t *)s + s->obj_offset + (size_t)i * s->obj_size;
}

/* Links all free objects again from the size slots, lowest first. Used at slab creation and when
 * a free object's link was overwritten (a use after free): the slots stay the truth. */
static void rebuild_free_list(struct heap_slab *s)
{
    uint16_t head = SLOT_NONE;
    for (unsigned i = s->capacity; i-- > 0;) {
        if (s->req[i] == SLOT_FREE) {
            memcpy(obj_addr(s, i), &head, sizeof(head));
            head = (uint16_t)i;
        }
    }
    s->free_head = head;
}

static struct heap_slab *slab_new(struct heap *h, unsigned cls)
{
    void *page = h->src.alloc_pages(h->src.ctx, 0);
    if (!page)
        return NULL;
    if ((uintptr_t)page & (HEAP_PAGE - 1)) {
        h->src.free_pages(h->src.ctx, page, 0);
        return NULL;
    }
    struct heap_slab *s = page;
    unsigned size = MIN_CLASS_SIZE << cls;
    unsigned n = (HEAP_PAGE - (unsigned)sizeof(*s)) / (size + 2);
    while (ALIGN_UP((unsigned)sizeof(*s) + 2 * n, 16u) + n * size > HEAP_PAGE)
        n--;
    s->magic = SLAB_MAGIC;
    s->cls = (uint16_t)cls;
    s->obj_size = (uint16_t)size;
    s->capacity = (uint16_t)n;
    s->in_use = 0;
    s->obj_offset = (uint16_t)ALIGN_UP((unsigned)sizeof(*s) + 2 * n, 16u);
    s->self = s;
    s->owner = h;
    s->next = s->prev = NULL;
    for (unsigned i = 0; i < n; i++)
        s->req[i] = SLOT_FREE;
    rebuild_free_list(s);
    h->stats.bytes_reserved += HEAP_PAGE;
    return s;
}

static void slab_release(struct heap *h, struct heap_slab *s)
{
    s->magic = 0;
    s->self = NULL;
    s->owner = NULL;
    h->src.free_pages(h->src.ctx, s, 0);
    h->stats.bytes_reserved -= HEAP_PAGE;
}

static void *slab_alloc(struct heap *h, size_t size)
{
    unsigned cls = size_class(size);
    struct heap_slab *s = h->partial[cls];
    if (!s) {
        s = h->empty[cls];
        if (s)
            h->empty[cls] = NULL;
        else
            s = slab_new(h, cls);
        if (!s)
            return NULL;
        partial_insert(h, s);
    }
    unsigned i = s->free_head;
    if (i >= s->capacity || s->req[i] != SLOT_FREE) {
        rebuild_free_list(s);
        i = s->free_head;
    }
    void *obj = obj_addr(s, i);
    uint16_t next;
    memcpy(&next, obj, sizeof(next));
    s->free_head = next;
    s->req[i] = (uint16_t)size;
    s->in_use++;
    if (s->in_use == s->capacity)
        partial_remove(h, s);
    return obj;
}

static void *large_alloc(struct heap *h, size_t size)
{
    unsigned order = 0;
    while (order <= LARGE_MAX_ORDER &&
           ((uint64_t)HEAP_PAGE << order) - sizeof(struct heap_large) < size)
        order++;
    if (order > LARGE_MAX_ORDER)
        return NULL;
    struct heap_large *l = h->src.alloc_pages(h->src.ctx, order);
    if (!l)
        return NULL;
    if ((uintptr_t)l & (HEAP_PAGE - 1)) {
        h->src.free_pages(h->src.ctx, l, order);
        return NULL;
    }
    l->magic = LARGE_MAGIC;
    l->order = order;
    l->size = size;
    l->self = l;
    l->owner = h;
    h->stats.bytes_reserved += (uint64_t)HEAP_PAGE << order;
    return l + 1;
}

void *heap_alloc(struct heap *h, size_t size)
{
    /* Size 0 still gets a unique pointer, as with most C libraries. */
    void *p = size <= MAX_CLASS_SIZE ? slab_alloc(h, size) : large_alloc(h, size);
    if (!p) {
        h->stats.failed_allocations++;
        return NULL;
    }
    h->stats.bytes_requested += size;
    h->stats.live_allocations++;
    h->stats.total_allocations++;
    return p;
}

void *heap_zalloc(struct heap *h, size_t size)
{
    void *p = heap_alloc(h, size);
    if (p)
        memset(p, 0, size);
    return p;
}

static civic_err slab_free(struct heap *h, struct heap_slab *s, uintptr_t off)
{
    if (off < s->obj_offset || (off - s->obj_offset) % s->obj_size)
        return CIVIC_EINVAL;
    uintptr_t i = (off - s->obj_offset) / s->obj_size;
    if (i >= s->capacity || s->req[i] == SLOT_FREE)
        return CIVIC_EINVAL;

    h->stats.bytes_requested -= s->req[i];
    s->req[i] = SLOT_FREE;
    memcpy(obj_addr(s, (unsigned)i), &s->free_head, sizeof(s->free_head));
    s->free_head = (uint16_t)i;
    if (s->in_use == s->capacity)
        partial_insert(h, s); /* was full, so off every list */
    s->in_use--;
    if (s->in_use == 0) {
        partial_remove(h, s);
        if (h->empty[s->cls])
            slab_release(h, s);
        else
            h->empty[s->cls] = s;
    }
    return CIVIC_OK;
}

static civic_err large_free(struct heap *h, struct heap_large *l, uintptr_t off)
{
    if (off != sizeof(*l) || l->order > LARGE_MAX_ORDER)
        return CIVIC_EINVAL;
    unsigned order = l->order;
    h->stats.bytes_requested -= l->size;
    h->stats.bytes_reserved -= (uint64_t)HEAP_PAGE << order;
    l->magic = 0;
    l->self = NULL;
    h->src.free_pages(h->src.ctx, l, order);
    return CIVIC_OK;
}

civic_err heap_free(struct heap *h, void *p)
{
    if (!p)
        return CIVIC_OK;
    uintptr_t page = (uintptr_t)p & ~(uintptr_t)(HEAP_PAGE - 1);
    uintptr_t off = (uintptr_t)p - page;
    struct heap_slab *s = (struct heap_slab *)page;
    struct heap_large *l = (struct heap_large *)page;
    civic_err e = CIVIC_EINVAL;
    /* Both headers start with the magic; only then is the rest of either one worth reading. */
    if (s->magic == SLAB_MAGIC && s->self == s && s->owner == h)
        e = slab_free(h, s, off);
    else if (l->magic == LARGE_MAGIC && l->self == l && l->owner == h)
        e = large_free(h, l, off);
    if (e != CIVIC_OK) {
        h->stats.bad_frees++;
        return trace_error(e);
    }
    h->stats.live_allocations--;
    return CIVIC_OK;
}

void heap_get_stats(const struct heap *h, struct heap_stats *st)
{
    *st = h->stats;
}
