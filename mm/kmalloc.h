/* The kernel heap instance, fed with frames from the PMM through the direct map. */
#pragma once
#include <stddef.h>

#include "mm/heap.h"

void kmalloc_init(void);
void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *p);
void kmalloc_get_stats(struct heap_stats *st);
