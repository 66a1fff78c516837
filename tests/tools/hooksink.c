/*
 * hooksink — a tiny webhook receiver for tests.  Listens on 127.0.0.1,
 * appends the body of every POST as one line (newlines turned into
 * spaces) to --out FILE, answers --status (default 200) after --delay-ms.
 *
 *   hooksink --port 0 --out FILE [--status N] [--delay-ms N]
 *
 * Prints "hooksink listening on 127.0.0.1:PORT" to stderr when ready and
 * exits 0 on SIGTERM/SIGINT.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/cfg.h"
#include "lib/sig.h"

struct hs_state {
    FILE *out;
    pthread_mutex_t mu;
    long status, delay_ms;
};

struct hs_body {
    char *buf;
    size_t len;
};

static enum MHD_Result hs_handler(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    struct hs_state *st = cls;
    struct hs_body *b = *con_cls;
    struct MHD_Response *r;
    enum MHD_Result ret;

    (void)url;
    (void)version;
    if (!b) {
        b = calloc(1, sizeof(*b));
        if (!b)
            return MHD_NO;
        *con_cls = b;
        return MHD_YES;
    }
    if (*data_size > 0) {
        char *nb = realloc(b->buf, b->len + *data_size + 1);
        if (!nb)
            return MHD_NO;
        b->buf = nb;
        memcpy(b->buf + b->len, data, *data_size);
        b->len += *data_size;
        *data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") == 0) {
        pthread_mutex_lock(&st->mu);
        for (size_t i = 0; i < b->len; i++)
            fputc(b->buf[i] == '\n' || b->buf[i] == '\r' ? ' ' : b->buf[i],
                  st->out);
        fputc('\n', st->out);
        fflush(st->out);
        pthread_mutex_unlock(&st->mu);
    }
    if (st->delay_ms > 0) {
        struct timespec ts = {st->delay_ms / 1000,
                              (st->delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    r = MHD_create_response_from_buffer(3, (void *)(uintptr_t) "ok\n",
                                        MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    ret = MHD_queue_response(conn, (unsigned)st->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void hs_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct hs_body *b = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (b) {
        free(b->buf);
        free(b);
        *con_cls = NULL;
    }
}

int main(int argc, char **argv)
{
    struct hs_state st;
    struct sockaddr_in sa;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    const char *out = NULL;
    long long port = 0, v;

    memset(&st, 0, sizeof(st));
    st.status = 200;
    for (int i = 1; i < argc; i++) {
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--out") == 0 && val) {
            out = val;
        } else if (strcmp(argv[i], "--port") == 0 && val &&
                   cfg_parse_ll(val, &port) == 0 && port >= 0 &&
                   port <= 65535) {
        } else if (strcmp(argv[i], "--status") == 0 && val &&
                   cfg_parse_ll(val, &v) == 0 && v >= 100 && v <= 599) {
            st.status = (long)v;
        } else if (strcmp(argv[i], "--delay-ms") == 0 && val &&
                   cfg_parse_ll(val, &v) == 0 && v >= 0 && v <= 600000) {
            st.delay_ms = (long)v;
        } else {
            fprintf(stderr, "usage: hooksink --port P --out FILE "
                            "[--status N] [--delay-ms N]\n");
            return 2;
        }
        i++;
    }
    if (!out) {
        fprintf(stderr, "hooksink: --out is required\n");
        return 2;
    }
    st.out = fopen(out, "a");
    if (!st.out) {
        perror(out);
        return 1;
    }
    pthread_mutex_init(&st.mu, NULL);
    sig_install();
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
        (uint16_t)port, NULL, NULL, hs_handler, &st, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, hs_completed, NULL,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "hooksink: cannot listen on 127.0.0.1:%lld\n", port);
        fclose(st.out);
        return 1;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    fprintf(stderr, "hooksink listening on 127.0.0.1:%u\n",
            info ? (unsigned)info->port : (unsigned)port);
    while (!sig_stop_requested())
        sig_sleep_ms(100);
    MHD_stop_daemon(d);
    fclose(st.out);
    pthread_mutex_destroy(&st.mu);
    return 0;
}
