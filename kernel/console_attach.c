#include "kernel/console_attach.h"

#include "kernel/console.h"
#include "kernel/shell.h"
#include "kernel/vm.h"

static struct vm *attached;

void console_attach(struct vm *vm)
{
    attached = vm;
    kprintf("[attached to %s's console; Ctrl-] detaches]\n", vm->name);
}

bool console_attached(void) { return attached != NULL; }

static void detach(void)
{
    kprintf("\n[detached from %s]\n", attached->name);
    attached = NULL;
    shell_prompt();
}

bool console_attach_input(uint8_t byte)
{
    if (byte == CONSOLE_DETACH_KEY) {
        detach();
        return true;
    }
    return vdev_uart_receive(&attached->uart, byte);
}

void console_attach_guest_output(struct vm *vm, uint8_t byte)
{
    if (vm == attached)
        console_putc((char)byte);
}

void console_attach_forget(struct vm *vm)
{
    if (vm == attached)
        detach();
}
