#include "lib/consume.h"

#include "lib/log.h"
#include "lib/sig.h"

int consume_once(struct consume_loop *cl)
{
    rd_kafka_message_t *m;
    enum outcome res;
    char reason[512], err[512];
    long backoff = 0;

    if (cl->fatal)
        return -1;
    m = kafka_consumer_poll(cl->kc, KAFKA_POLL_MS);
    if (kafka_consumer_fatal(cl->kc)) {
        cl->fatal = 1;
        if (m)
            rd_kafka_message_destroy(m);
        return -1;
    }
    if (!m)
        return 0;
    cl->n_msgs++;
    for (;;) {
        reason[0] = '\0';
        res = cl->fn(cl->ctx, m, reason, sizeof(reason));
        if (res == OUTCOME_OK)
            break;
        cl->n_retries++;
        if (sig_stop_requested()) {
            log_info("stop requested: %s [%d] offset %lld not committed, "
                     "redelivered on restart",
                     rd_kafka_topic_name(m->rkt), (int)m->partition,
                     (long long)m->offset);
            rd_kafka_message_destroy(m);
            return 0;
        }
        if (res != OUTCOME_PAUSED) {
            backoff = backoff ? backoff * 2 : 500 /* ms */;
            if (backoff > cl->backoff_max_ms)
                backoff = cl->backoff_max_ms;
            log_warn("retry in %ld ms: %s", backoff, reason);
            sig_sleep_ms(backoff);
        } else {
            log_info("retry: %s", reason);
        }
    }
    if (kafka_consumer_commit(cl->kc, m, 0, err, sizeof(err)) != 0)
        log_warn("commit: %s (the message may be redelivered; harmless)", err);
    rd_kafka_message_destroy(m);
    return 1;
}
