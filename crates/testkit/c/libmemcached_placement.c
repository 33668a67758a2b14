/* Prints the server index libmemcached maps each key to, so tests can hold shardslap's
 * placement against the real client library. No server needs to run: placement is local.
 *
 * usage: libmemcached_placement modula|ketama host:port:weight...
 * keys are read from stdin, one a line; one index a line is printed for each. */
#include <libmemcached/memcached.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, memcached_st *memc, memcached_return_t rc) {
    fprintf(stderr, "libmemcached_placement: %s: %s\n", what,
            memc ? memcached_strerror(memc, rc) : "out of memory");
    exit(2);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s modula|ketama host:port:weight...\n", argv[0]);
        return 2;
    }
    memcached_st *memc = memcached_create(NULL);
    if (!memc) die("memcached_create", NULL, MEMCACHED_FAILURE);
    memcached_return_t rc;
    if (strcmp(argv[1], "ketama") == 0) {
        /* Sets the MD5 key hash too, as php-memcached's OPT_LIBKETAMA_COMPATIBLE does. */
        rc = memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1);
    } else if (strcmp(argv[1], "modula") == 0) {
        rc = memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_DISTRIBUTION,
                                    MEMCACHED_DISTRIBUTION_MODULA);
    } else {
        fprintf(stderr, "libmemcached_placement: unknown distribution '%s'\n", argv[1]);
        return 2;
    }
    if (rc != MEMCACHED_SUCCESS) die("memcached_behavior_set", memc, rc);
    for (int i = 2; i < argc; i++) {
        char host[256];
        unsigned port, weight;
        if (sscanf(argv[i], "%255[^:]:%u:%u", host, &port, &weight) != 3) {
            fprintf(stderr, "libmemcached_placement: bad server '%s'\n", argv[i]);
            return 2;
        }
        rc = memcached_server_add_with_weight(memc, host, (in_port_t) port, weight);
        if (rc != MEMCACHED_SUCCESS) die("memcached_server_add_with_weight", memc, rc);
    }
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        size_t len = strcspn(line, "\n");
        printf("%u\n", memcached_generate_hash(memc, line, len));
    }
    memcached_free(memc);
    return 0;
}
