/*
 * civic's one error type: 0 is success, negative values are failures. trace_error() records
 * where an error first arose so that a failure several layers up can still say where it began.
 */
#pragma once

typedef enum civic_err {
    CIVIC_OK = 0,
    CIVIC_ENOMEM = -1,  /* out of frames or heap */
    CIVIC_EINVAL = -2,  /* malformed argument or input */
    CIVIC_ENOENT = -3,  /* no such object */
    CIVIC_EEXIST = -4,  /* object already exists */
    CIVIC_EBUSY = -5,   /* object in use */
    CIVIC_ERANGE = -6,  /* value out of range or too long */
    CIVIC_ENOTSUP = -7, /* the hardware or this build cannot do it */
    CIVIC_EIO = -8,     /* a device or a peer failed */
    CIVIC_ETIMEDOUT = -9,
    CIVIC_EPROTO = -10,   /* a peer or a guest broke a protocol */
    CIVIC_ECORRUPT = -11, /* data failed a consistency check */
    CIVIC_EAGAIN = -12    /* not available yet: wait and retry */
} civic_err;

const char *civic_strerror(civic_err e);

struct error_site {
    const char *file;
    int line;
    civic_err err;
};

/* The most recent error site recorded on this CPU. */
extern struct error_site last_error_site;

static inline civic_err error_trace_record(civic_err e, const char *file, int line)
{
    last_error_site.file = file;
    last_error_site.line = line;
    last_error_site.err = e;
    return e;
}

#define trace_error(e) error_trace_record((e), __FILE__, __LINE__)
