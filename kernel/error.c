#include "kernel/error.h"

struct error_site last_error_site;

const char *civic_strerror(civic_err e)
{
    switch (e) {
    case CIVIC_OK: return "success";
    case CIVIC_ENOMEM: return "out of memory";
    case CIVIC_EINVAL: return "invalid argument";
    case CIVIC_ENOENT: return "no such object";
    case CIVIC_EEXIST: return "already exists";
    case CIVIC_EBUSY: return "busy";
    case CIVIC_ERANGE: return "out of range";
    case CIVIC_ENOTSUP: return "not supported";
    case CIVIC_EIO: return "I/O error";
    case CIVIC_ETIMEDOUT: return "timed out";
    case CIVIC_EPROTO: return "protocol error";
    case CIVIC_ECORRUPT: return "data corrupt";
    case CIVIC_EAGAIN: return "not available yet: wait and retry";
    }
    return "unknown error";
}
