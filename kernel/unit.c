/* The unit registry: the descriptors between the linker's __start/__stop_civic_units. */
#include "kernel/unit.h"

#include "kernel/log.h"

extern const struct civic_unit __start_civic_units[], __stop_civic_units[];

#define MAX_UNITS 64
static bool unit_up[MAX_UNITS];

void units_init(void)
{
    size_t n = (size_t)(__stop_civic_units - __start_civic_units);
    for (size_t i = 0; i < n; i++) {
        const struct civic_unit *u = &__start_civic_units[i];
        if (i >= MAX_UNITS) {
            log_err("unit: %s: more than %d units; not started", u->name, MAX_UNITS);
            continue;
        }
        civic_err e = u->init ? u->init() : CIVIC_OK;
        if (e != CIVIC_OK) {
            log_warn("unit: %s: init failed: %s", u->name, civic_strerror(e));
            continue;
        }
        unit_up[i] = true;
    }
}

bool units_poll(void)
{
    size_t n = (size_t)(__stop_civic_units - __start_civic_units);
    bool busy = false;
    for (size_t i = 0; i < n && i < MAX_UNITS; i++)
        if (unit_up[i] && __start_civic_units[i].poll && __start_civic_units[i].poll())
            busy = true;
    return busy;
}
