#include "store/insales/insales.h"
#include "store/insales/insales_orders.h"

/* inSales: 500 requests per 300 s per shop (../shared/INSALES.md §1). */
const struct store_platform insales_platform = {
    .name = "insales",
    .adapter = &insales_adapter,
    .default_limit = 500,
    .default_window_s = 300,
    /* orders and webhooks */
    .orders_page = insales_orders_page,
    .order_identify = insales_order_identify,
    .order_parse = insales_order_parse,
    .order_status_set = insales_order_status_set,
    .webhooks_register = insales_webhooks_register,
    .webhook_route = insales_webhook_route,
    .webhook_authenticate = insales_webhook_authenticate,
};
