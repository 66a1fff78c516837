#include "store/insales/insales.h"

/* inSales: 500 requests per 300 s per shop (../shared/INSALES.md §1). */
const struct store_platform insales_platform = {
    .name = "insales",
    .adapter = &insales_adapter,
    .default_limit = 500,
    .default_window_s = 300,
};
