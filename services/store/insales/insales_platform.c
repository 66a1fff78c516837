#include "store/insales/insales.h"

#include "store/insales/insales_catalog.h"
#include "store/insales/insales_images.h"
#include "store/insales/insales_orders.h"
#include "store/insales/insales_stock.h"

/* inSales: 500 requests per 300 s per shop (../shared/INSALES.md §1). */
const struct store_platform insales_platform = {
    .name = INSALES_NAME,
    .adapter = &insales_adapter,
    .default_limit = INSALES_LIMIT,
    .default_window_s = INSALES_WINDOW_S,
    .stock_batch_max = INSALES_GROUP_MAX,
    .product_doc = insales_catalog_product_doc,
    .variant_doc = insales_catalog_variant_doc,
    .categories_list = insales_catalog_categories_list,
    .category_create = insales_catalog_category_create,
    .category_update = insales_catalog_category_update,
    .category_delete = insales_catalog_category_delete,
    .product_create = insales_catalog_product_create,
    .product_update = insales_catalog_product_update,
    .product_archive = insales_catalog_product_archive,
    .product_recover = insales_catalog_product_recover,
    .products_page = insales_catalog_products_page,
    .variants_list = insales_catalog_variants_list,
    .variant_create = insales_catalog_variant_create,
    .variant_update = insales_catalog_variant_update,
    .variant_delete = insales_catalog_variant_delete,
    .stock_push = insales_stock_push,
    .images_list = insales_images_list,
    .image_upload = insales_images_upload,
    .image_delete = insales_images_delete,
    .image_position = insales_images_position,
    /* orders and webhooks */
    .orders_page = insales_orders_page,
    .order_identify = insales_order_identify,
    .order_parse = insales_order_parse,
    .order_status_set = insales_order_status_set,
    .webhooks_register = insales_webhooks_register,
    .webhook_route = insales_webhook_route,
    .webhook_authenticate = insales_webhook_authenticate,
};
