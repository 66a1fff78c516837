/*
 * fuzz_event — libFuzzer target for the event decoder (events/event.c
 * event_decode): the bytes of one Kafka message, whatever the topic.
 */
#include "events/event.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct event ev;
    char errstr[512];

    if (event_decode(&ev, data, size, errstr, sizeof(errstr)) == 0)
        event_clear(&ev);
    return 0;
}
