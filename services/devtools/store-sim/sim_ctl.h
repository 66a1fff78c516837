/*
 * sim_ctl — the control API under /_sim/ (no auth, loopback): state,
 * faults, reset, the request log, pre-filled products, shopper orders.
 */
#ifndef SIM_CTL_H
#define SIM_CTL_H

struct sim_db;
struct sim_limiter;
struct sim_req;
struct sim_resp;

/**
 * @brief Serve one /_sim/ request; takes db->mu itself.
 * @locality any MHD connection thread.
 */
void sim_ctl_handle(struct sim_db *db, struct sim_limiter *lim,
                    struct sim_req *rq, struct sim_resp *rs);

#endif
