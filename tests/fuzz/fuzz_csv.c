/*
 * fuzz_csv — libFuzzer target for the CSV reader (lib/csv.c).
 *
 * The first byte picks the delimiter (0: detect, ',' or ';'); the rest is
 * the file.  Every record is read to the end (errors included), and every
 * field goes through the UTF-8 checks the importers apply.
 */
#include "lib/csv.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int delims[] = {0, ',', ';'};
    struct csv_reader *r;
    struct csv_record rec;
    struct csv_error err;
    char errstr[256];
    size_t bad, i;
    int rc;

    if (size < 1)
        return 0;
    r = csv_reader_open_buffer((const char *)data + 1, size - 1,
                               delims[data[0] % 3], errstr, sizeof(errstr));
    if (!r)
        return 0;
    while ((rc = csv_reader_next(r, &rec, &err)) != CSV_EOF) {
        if (rc != CSV_RECORD)
            continue;
        for (i = 0; i < rec.nfields; i++) {
            (void)csv_utf8_check(rec.fields[i].text, rec.fields[i].len, &bad);
            (void)csv_utf8_len(rec.fields[i].text, rec.fields[i].len);
        }
    }
    (void)csv_reader_delim(r);
    (void)csv_reader_had_bom(r);
    csv_reader_destroy(r);
    return 0;
}
