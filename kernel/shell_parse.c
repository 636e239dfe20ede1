#include "kernel/shell_parse.h"

#include <stdbool.h>

#include "kernel/string.h"

civic_err shell_split(char *line, int *argc, char **argv, struct shell_parse_error *err)
{
    char *r = line; /* read position */
    char *w = line; /* write position: words are compacted in place */
    int n = 0;

    for (;;) {
        while (*r == ' ' || *r == '\t')
            r++;
        if (!*r)
            break;
        if (n == SHELL_MAX_ARGS) {
            err->msg = "too many words";
            err->column = (size_t)(r - line);
            return CIVIC_EINVAL;
        }
        argv[n++] = w;
        bool quoted = false;
        size_t quote_col = 0;
        while (*r && (quoted || (*r != ' ' && *r != '\t'))) {
            if (*r == '"') {
                quoted = !quoted;
                quote_col = (size_t)(r - line);
                r++;
            } else if (quoted && *r == '\\' && (r[1] == '"' || r[1] == '\\')) {
                *w++ = r[1];
                r += 2;
            } else {
                *w++ = *r++;
            }
        }
        if (quoted) {
            err->msg = "unterminated quote";
            err->column = quote_col;
            return CIVIC_EINVAL;
        }
        /* r is at a separator or the end; w <= r, so this never overwrites unread input. */
        bool end = !*r;
        *w++ = 0;
        if (end)
            break;
        r++;
    }
    *argc = n;
    return CIVIC_OK;
}

civic_err shell_parse_u64(const char *s, uint64_t *out)
{
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return CIVIC_EINVAL;
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return CIVIC_EINVAL;
        if (v > (UINT64_MAX - d) / base)
            return CIVIC_ERANGE;
        v = v * base + d;
    }
    *out = v;
    return CIVIC_OK;
}

civic_err shell_parse_size(const char *s, uint64_t *out)
{
    char digits[24];
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9') {
        if (n + 1 >= sizeof digits)
            return CIVIC_ERANGE;
        digits[n] = s[n];
        n++;
    }
    if (n == 0)
        return CIVIC_EINVAL;
    digits[n] = 0;
    uint64_t v;
    civic_err e = shell_parse_u64(digits, &v);
    if (e)
        return e;

    const char *unit = s + n;
    unsigned shift = 0;
    switch (*unit) {
    case 0: break;
    case 'k': case 'K': shift = 10; unit++; break;
    case 'm': case 'M': shift = 20; unit++; break;
    case 'g': case 'G': shift = 30; unit++; break;
    case 't': case 'T': shift = 40; unit++; break;
    case 'b': case 'B': break;
    default: return CIVIC_EINVAL;
    }
    if (shift && *unit == 'i')
        unit++;
    if (*unit == 'b' || *unit == 'B')
        unit++;
    if (*unit)
        return CIVIC_EINVAL;
    if (shift && v > (UINT64_MAX >> shift))
        return CIVIC_ERANGE;
    *out = v << shift;
    return CIVIC_OK;
}

const char *shell_kv(const char *word, const char *key)
{
    size_t k = strlen(key);
    if (strncmp(word, key, k) == 0 && word[k] == '=')
        return word + k + 1;
    return NULL;
}
