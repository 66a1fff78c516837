#include "lib/grow.h"

#include <stdint.h>
#include <stdlib.h>

int grow_to(char **buf, size_t *cap, size_t need, size_t first)
{
    size_t ncap = *cap ? *cap : first;
    char *p;

    if (need <= *cap)
        return 0;
    if (need > SIZE_MAX / 2)
        return -1; /* the doubling would overflow */
    while (ncap < need)
        ncap *= 2;
    p = realloc(*buf, ncap);
    if (!p)
        return -1;
    *buf = p;
    *cap = ncap;
    return 0;
}
