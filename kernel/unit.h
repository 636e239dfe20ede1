/*
 * Subsystems register themselves (STYLE.md, item 8): CIVIC_UNIT places a descriptor in the
 * linker section `civic_units`, so adding a subsystem (the NIC driver, the network stack, remote
 * memory) edits no central list. kmain calls units_init() once the heap, interrupts and time are
 * up; the monitor loop calls units_poll() every turn.
 */
#pragma once
#include <stdbool.h>

#include "kernel/error.h"

struct civic_unit {
    const char *name;
    /* Brings the subsystem up; an error is logged and the unit is not polled. May be NULL. */
    civic_err (*init)(void);
    /* Does a bounded amount of work from the monitor loop; true if it did any (the loop then
     * does not idle). Never called from an interrupt handler. May be NULL. */
    bool (*poll)(void);
};

#define CIVIC_UNIT(ident, init_fn, poll_fn)                                                    \
    static const struct civic_unit civic_unit_##ident                                         \
        __attribute__((used, section("civic_units"), aligned(8))) = {                         \
            .name = #ident, .init = init_fn, .poll = poll_fn}

/* Runs every unit's init, in link order. */
void units_init(void);
/* Polls every unit that came up; true if any did work. */
bool units_poll(void);
