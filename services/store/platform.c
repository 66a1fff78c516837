#include "store/platform.h"

#include "store/insales/insales.h"

#include <stdio.h>
#include <string.h>

/* The registry: one line per platform. */
static const struct store_platform *const platforms[] = {
    &insales_platform,
    NULL,
};

const struct store_platform *store_platform_find(const char *name)
{
    for (size_t i = 0; name && platforms[i]; i++)
        if (strcmp(platforms[i]->name, name) == 0)
            return platforms[i];
    return NULL;
}

const char *store_platform_names(void)
{
    static char names[256];

    if (!names[0]) {
        size_t n = 0;

        for (size_t i = 0; platforms[i] && n < sizeof(names); i++)
            n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
                                  i ? "," : "", platforms[i]->name);
    }
    return names;
}
