#include "lib/outcome.h"

const char *outcome_name(enum outcome o)
{
    switch (o) {
    case OUTCOME_OK:
        return "ok";
    case OUTCOME_RETRY:
        return "retry";
    case OUTCOME_PAUSED:
        return "paused";
    case OUTCOME_REJECTED:
        return "rejected";
    }
    return "unknown";
}
