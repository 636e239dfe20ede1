/*
 * The kernel heap instance. Pages come from the PMM and are used through the direct map. Calls
 * run with interrupts off so that an interrupt handler may allocate too.
 */
#include "mm/kmalloc.h"

#include "arch/x86/irq.h"
#include "kernel/arch.h"
#include "kernel/log.h"
#include "mm/pmm.h"

static struct heap kheap;
static int kheap_ready;

static void *kheap_alloc_pages(void *ctx, unsigned order)
{
    phys_addr_t pa;
    if (pmm_alloc(order, &pa) != CIVIC_OK)
        return NULL;
    return phys_to_virt(pa);
}

static void kheap_free_pages(void *ctx, void *pages, unsigned order)
{
    civic_err e = pmm_free(virt_to_phys(pages), order);
    if (e != CIVIC_OK)
        log_err("mm: heap returned pages %p (order %u) the PMM refuses: %s", pages, order,
                civic_strerror(e));
}

void kmalloc_init(void)
{
    static const struct heap_page_source src = {
        .alloc_pages = kheap_alloc_pages,
        .free_pages = kheap_free_pages,
        .ctx = NULL,
    };
    heap_init(&kheap, &src);
    kheap_ready = 1;
}

void *kmalloc(size_t size)
{
    if (!kheap_ready)
        return NULL;
    irq_state_t f = irq_save();
    void *p = heap_alloc(&kheap, size);
    irq_restore(f);
    return p;
}

void *kzalloc(size_t size)
{
    if (!kheap_ready)
        return NULL;
    irq_state_t f = irq_save();
    void *p = heap_zalloc(&kheap, size);
    irq_restore(f);
    return p;
}

void kfree(void *p)
{
    if (!p)
        return;
    if (!kheap_ready) {
        log_err("mm: kfree(%p) before the heap exists", p);
        return;
    }
    irq_state_t f = irq_save();
    civic_err e = heap_free(&kheap, p);
    irq_restore(f);
    /* A bad free is a bug in the caller; the heap is intact, so report and carry on. */
    if (e != CIVIC_OK)
        log_err("mm: kfree(%p): not a live heap object", p);
}

void kmalloc_get_stats(struct heap_stats *st)
{
    irq_state_t f = irq_save();
    heap_get_stats(&kheap, st);
    irq_restore(f);
}
