/* Log level names, apart from the log itself so that option parsers can be host-tested. */
#include "kernel/log.h"
#include "kernel/string.h"

static const char *const level_names[] = { "err", "warn", "info", "debug" };

const char *log_level_name(enum log_level level)
{
    return (unsigned)level < 4 ? level_names[level] : "?";
}

int log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}
