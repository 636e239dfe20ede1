/* key=value words of the multiboot command line. */
#include "guest.h"

/* The next word of s at or after *pos: its start and length (0 at the end). */
static size_t next_word(const char *s, size_t *pos, const char **word)
{
    size_t i = *pos;
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    *word = s + i;
    size_t n = 0;
    while (s[i + n] && s[i + n] != ' ' && s[i + n] != '\t')
        n++;
    *pos = i + n;
    return n;
}

static size_t key_len(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (w[i] == '=')
            return i;
    return n; /* no '=': not a key=value word */
}

/* The value of key (pointer into the command line) and its length, or NULL. Last one wins. */
static const char *lookup(const char *key, size_t *len)
{
    const char *s = cmdline(), *w, *found = NULL;
    size_t pos = 0, n, klen = strlen(key);
    while ((n = next_word(s, &pos, &w)) != 0) {
        size_t k = key_len(w, n);
        if (k < n && k == klen && strncmp(w, key, k) == 0) {
            found = w + k + 1;
            *len = n - k - 1;
        }
    }
    return found;
}

bool cmdline_get(const char *key, char *buf, size_t size)
{
    size_t len;
    const char *v = lookup(key, &len);
    if (v == NULL || len + 1 > size)
        return false;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return true;
}

static bool parse_uint(const char *s, size_t len, uint64_t *out)
{
    unsigned base = 10;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        len -= 2;
    }
    if (len == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned d;
        char c = s[i];
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return false;
        /* Overflow, checked without a 64-bit division (no libgcc). */
        uint64_t limit = base == 16 ? UINT64_MAX >> 4 : 1844674407370955161ull; /* max / 10 */
        if (v > limit || (base == 10 && v == limit && d > 5))
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

bool cmdline_uint(const char *who, const char *key, uint64_t def, uint64_t *out)
{
    size_t len;
    const char *v = lookup(key, &len);
    if (v == NULL) {
        *out = def;
        return true;
    }
    if (parse_uint(v, len, out))
        return true;
    printf("%s: bad value for %s: '%.*s'\n", who, key, (int)len, v);
    return false;
}

bool cmdline_check_keys(const char *who, const char *const *known)
{
    const char *s = cmdline(), *w;
    size_t pos = 0, n;
    bool ok = true;
    while ((n = next_word(s, &pos, &w)) != 0) {
        size_t k = key_len(w, n);
        if (k == n)
            continue;
        bool found = false;
        for (const char *const *p = known; *p != NULL && !found; p++)
            found = strlen(*p) == k && strncmp(w, *p, k) == 0;
        if (!found) {
            printf("%s: unknown argument '%.*s'\n", who, (int)n, w);
            ok = false;
        }
    }
    return ok;
}
