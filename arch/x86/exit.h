/*
 * The exit dispatch: what the run loop reads about an exit, the handlers, and the table that maps
 * each basic exit reason to one. exit_table.c is pure (host-tested); the handlers live in
 * exit_*.c.
 */
#pragma once
#include <stdint.h>

#include "kernel/vmm.h"

struct vcpu;

/* Read once per exit by the run loop (vcpu.c). */
struct exit_info {
    uint32_t reason; /* basic exit reason */
    uint64_t qualification;
};

typedef enum exit_action (*exit_handler_fn)(struct vcpu *v, const struct exit_info *e);

/* Runs the handler for e->reason; reasons beyond the table go to exit_unexpected. */
enum exit_action exit_dispatch(struct vcpu *v, const struct exit_info *e);
/* The handler a reason maps to (NULL only if the table has a hole: the unit test checks). */
exit_handler_fn exit_handler_for(unsigned reason);

/* Generic handlers (exit_misc.c). */
enum exit_action exit_unexpected(struct vcpu *v, const struct exit_info *e); /* stop + dump */
enum exit_action exit_inject_ud(struct vcpu *v, const struct exit_info *e);
enum exit_action exit_inject_gp(struct vcpu *v, const struct exit_info *e);
enum exit_action exit_skip(struct vcpu *v, const struct exit_info *e); /* complete, no effect */
enum exit_action exit_exception_or_nmi(struct vcpu *v, const struct exit_info *e);
enum exit_action exit_external_interrupt(struct vcpu *v, const struct exit_info *e);
enum exit_action exit_triple_fault(struct vcpu *v, const struct exit_info *e);
enum exit_action exit_init_signal(struct vcpu *v, const struct exit_info *e);
enum exit_action exit_startup_ipi(struct vcpu *v, const struct exit_info *e);
enum exit_action exit_interrupt_window(struct vcpu *v, const struct exit_info *e);
enum exit_action exit_task_switch(struct vcpu *v, const struct exit_info *e);
enum exit_action exit_hlt(struct vcpu *v, const struct exit_info *e);
enum exit_action exit_entry_failure(struct vcpu *v, const struct exit_info *e);
enum exit_action exit_monitor_trap_flag(struct vcpu *v, const struct exit_info *e);
enum exit_action exit_preemption_timer(struct vcpu *v, const struct exit_info *e);
enum exit_action exit_xsetbv(struct vcpu *v, const struct exit_info *e);
/* exit_cpuid.c */
enum exit_action exit_cpuid(struct vcpu *v, const struct exit_info *e);
/* exit_io.c */
enum exit_action exit_io(struct vcpu *v, const struct exit_info *e);
/* exit_cr.c */
enum exit_action exit_cr_access(struct vcpu *v, const struct exit_info *e);
/* exit_msr.c */
enum exit_action exit_rdmsr(struct vcpu *v, const struct exit_info *e);
enum exit_action exit_wrmsr(struct vcpu *v, const struct exit_info *e);
/* exit_ept.c */
enum exit_action exit_ept_violation(struct vcpu *v, const struct exit_info *e);
enum exit_action exit_ept_misconfiguration(struct vcpu *v, const struct exit_info *e);
