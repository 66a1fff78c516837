/*
 * cli — shared plumbing of the omnisync operator CLI: exit codes, its
 * settings and connections, option parsing helpers, and the
 * entry point of every command module (cmd_<name>.c).
 */
#ifndef OMNI_CLI_H
#define OMNI_CLI_H

#include "lib/secret.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

struct cfg;
struct cfg_opt;

/* The exit-code table of every command (docs/cli.md). */
#define CLI_OK 0
#define CLI_NEGATIVE 1 /* a negative answer: drift, lag, not in sync */
#define CLI_USAGE 2    /* usage or input error, a missing or bad setting */
/* Could not reach a dependency (Postgres, Redis, Kafka, a store) or it
 * failed the request (an SQL error); also out of memory. */
#define CLI_DEPENDENCY 3
/* The old "runtime failure": use CLI_DEPENDENCY (left for cmd_status.c). */
#define CLI_FAIL CLI_DEPENDENCY

/* Every command: argv[0] is the command word ("db", "stock", ...). */
int cmd_db(int argc, char **argv);
int cmd_location(int argc, char **argv);
int cmd_pricelist(int argc, char **argv);
int cmd_group(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_import_stock(int argc, char **argv); /* `import stock` */
int cmd_stock(int argc, char **argv);
int cmd_store(int argc, char **argv);
int cmd_store_adopt(int argc, char **argv); /* `store adopt` (cmd_adopt.c) */
int cmd_status(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_orders(int argc, char **argv);
int cmd_reconcile(int argc, char **argv);
int cmd_lag(int argc, char **argv); /* exit 1 means "lag above --max" */
int cmd_dlq(int argc, char **argv); /* exit 1 means "refused" (replay) */
int cmd_topics(int argc, char **argv);
int cmd_client(int argc, char **argv); /* ledger-api clients */
int cmd_doc(int argc, char **argv);    /* back-office documents */

/* The CLI's settings (cfg.h keys; docs/config.md), read once by
 * cli_config_load() from -c FILE, the environment and -o KEY=VALUE. */
struct cli_cfg {
    char *pg_dsn;          /* pg.dsn; unset: libpq's PG* variables */
    char *kafka_bootstrap; /* kafka.bootstrap (lag) */
    char *redis_addr;      /* redis.addr: the stores' API budgets */
    char *secret_key;      /* secret.key: encrypts store passwords (secret) */
    char *sql_dir;         /* sql.dir: migrations directory (db migrate) */
    long long photo_max_bytes; /* import.photo_max_bytes */
    char *log_level;           /* log.level */
};

/** @returns the CLI's option table (static) for cfg_load_head(). */
const struct cfg_opt *cli_cfg_table(void);

/**
 * @brief Read the CLI's settings from the options before the command word
 *        ("omnisync [-c FILE] [-o KEY=VALUE]... COMMAND ...").  Exits 2
 *        on a bad setting, 0 after --dump-config.
 * @param argi receives the index of the command word (argc if none).
 * @returns the handle owning the settings' strings; cfg_destroy() it last.
 */
struct cfg *cli_config_load(int argc, char **argv, int *argi);

/** @returns the settings read by cli_config_load() (borrowed). */
const struct cli_cfg *cli_config(void);

/**
 * @brief Connect to the ledger named by pg.dsn (OMNISYNC_PG), or by
 *        libpq's PG* variables when it is unset.
 * @returns the connection, or NULL after printing the reason to stderr
 *          (callers return CLI_DEPENDENCY).
 */
PGconn *cli_pg(void);

/**
 * @brief The key that encrypts store passwords, from secret.key
 *        (OMNISYNC_SECRET_KEY).
 * @returns 0, or -1 with errstr naming OMNISYNC_SECRET_KEY (never the key).
 */
int cli_secret_key(unsigned char key[SECRET_KEY_BYTES], char *errstr,
                   size_t errstr_size);

/** @brief Print "omnisync: <msg>" to stderr; returns @p code. */
int cli_err(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** @returns 1 when @p arg is -h or --help. */
int cli_is_help(const char *arg);

/* One subcommand of a command ("stock receipt"). */
struct cli_sub {
    const char *name;
    /* argv[0] is the subcommand word; returns a CLI_* code.  On CLI_USAGE
     * the function has printed why; cli_sub_run() adds the usage. */
    int (*fn)(int argc, char **argv);
    const char *usage; /* "stock receipt LOCATION SKU QTY [--ref KEY]\n..." */
};

/**
 * @brief Run the subcommand named by argv[1] of command argv[0].
 *
 * "CMD --help" prints every subcommand's usage; "CMD SUB ... --help"
 * prints that subcommand's (both exit 0).  A missing or unknown
 * subcommand is a usage error.
 * @param subs table ending with a {NULL} row.
 * @returns the subcommand's exit code.
 */
int cli_sub_run(const struct cli_sub *subs, int argc, char **argv);

/* One option of a (sub)command. */
struct cli_opt {
    const char *name; /* "--kind" */
    const char **val; /* receives the argument (options with a value) */
    int *flag;        /* set to 1 (options without a value) */
};

/**
 * @brief Parse argv[1..]: "--opt VALUE", "--opt=VALUE" and flags, in any
 *        order, mixed with positional arguments; "--" ends the options.
 *        Words that start with a single '-' (e.g. "-5") are positional.
 * @param pos    receives up to @p max_pos positional arguments.
 * @param npos   receives how many there were.
 * @returns CLI_OK, or CLI_USAGE after printing the reason (unknown
 *          option, missing value, too many arguments).
 */
int cli_args_parse(const char *cmd, int argc, char **argv,
                   const struct cli_opt *opts, const char **pos, int max_pos,
                   int *npos);

/**
 * @brief Parse a quantity: a decimal integer, > 0 (>= 0 when @p allow_zero),
 *        at most CLI_QTY_MAX.
 * @returns 0, or -1 (the caller names the argument in its message).
 */
int cli_qty_parse(const char *s, int allow_zero, long long *out);
#define CLI_QTY_MAX 1000000000LL

/**
 * @brief Check a code (location, price list, store name): non-empty, no
 *        whitespace or control characters, no ',' or ':'.
 * @returns 1 when acceptable.
 */
int cli_code_ok(const char *s);

/* Longest location or price list code, and longest display name (bytes). */
#define CLI_CODE_MAX 64
#define CLI_NAME_MAX 500

/**
 * @brief Check a location or price list code (cli_code_ok, at most
 *        CLI_CODE_MAX bytes) and an optional display name (non-empty, at most
 *        CLI_NAME_MAX bytes).  Prints "CMD: ..." naming the bad value.
 * @returns CLI_OK or CLI_USAGE.
 */
int cli_code_name_check(const char *cmd, const char *code, const char *name);

/* A text table: a header row, then rows, printed with aligned columns. */
struct cli_table;

/** @brief New table with @p ncols columns named by @p headers (borrowed). */
struct cli_table *cli_table_new(size_t ncols, const char *const *headers);
/** @brief Append a row of @p ncols strings (copied; NULL prints ""). */
int cli_table_row(struct cli_table *t, const char *const *cells);
/** @brief Print to stdout, columns separated by two spaces. */
void cli_table_print(const struct cli_table *t);
/** @brief Free.  NULL-safe. */
void cli_table_destroy(struct cli_table *t);

/**
 * @brief Print the first @p ncols columns of every row of @p res: as a
 *        table under @p names, or (@p as_json) as a JSON array of objects
 *        keyed by @p names.  @p types gives each column's JSON type:
 *        's' string, 'n' string or null when SQL NULL, 'i' integer.
 * @returns CLI_OK, or CLI_DEPENDENCY when out of memory.
 */
int cli_print_result(const PGresult *res, size_t ncols,
                     const char *const *names, const char *types, int as_json);

/* A list command's query: the rows to print, or NULL with errstr. */
typedef PGresult *(*cli_list_fetch)(PGconn *pg, char *errstr,
                                    size_t errstr_size);

/**
 * @brief Run the list command @p cmd ("group list"): parse its only option
 *        --json, connect, print @p fetch's rows with cli_print_result()
 *        (@p names and @p types: one per column, @p types's length is
 *        the column count).
 * @returns a CLI_* exit code.
 */
int cli_list_run(const char *cmd, int argc, char **argv, cli_list_fetch fetch,
                 const char *const *names, const char *types);

/**
 * @brief Print @p root (owned: released by this call) as indented JSON
 *        plus a newline to stdout.
 * @returns CLI_OK, or CLI_DEPENDENCY when @p root is NULL or cannot be printed.
 */
int cli_json_print(json_t *root);

/**
 * @brief Look up the id of a row by code, through the table's owning
 *        module, for the fixed tables location (code), price_list (code),
 *        variant (sku), store (name).
 * @returns the id; 0 when there is no such row; -1 on a database error
 *          (printed).
 */
long long cli_id_lookup(PGconn *pg, const char *table, const char *value);

/**
 * @brief Check redis.addr (OMNISYNC_REDIS), for the commands that call a
 *        store through its API budget: set, and answering PING within
 *        CLI_REDIS_TIMEOUT_MS (the budget itself waits for a Redis that is
 *        down, which would make the command hang).
 * @returns CLI_OK; CLI_USAGE (unset) or CLI_DEPENDENCY, after printing why.
 */
int cli_redis_check(const char *cmd);
#define CLI_REDIS_TIMEOUT_MS 2000

/**
 * @brief Check that store @p name exists (for commands that take one).
 * @returns CLI_OK; CLI_USAGE after printing "<cmd>: unknown store 'NAME'";
 *          CLI_DEPENDENCY after printing the database error.
 */
int cli_store_known(PGconn *pg, const char *cmd, const char *name);

#endif
