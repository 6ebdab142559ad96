// A CPU-heavy program: counts primes with a sieve and hashes the result
// repeatedly. Prints the same answer natively and as a SIP.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t count_primes(uint32_t limit, uint8_t* composite)
{
    memset(composite, 0, limit + 1);
    uint32_t count = 0;
    for (uint32_t i = 2; i <= limit; ++i) {
        if (composite[i])
            continue;
        ++count;
        for (uint64_t j = (uint64_t)i * i; j <= limit; j += i)
            composite[j] = 1;
    }
    return count;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

int main(int argc, char** argv)
{
    uint32_t limit = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 2000000;
    uint32_t rounds = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 5;
    uint8_t* composite = malloc(limit + 1);
    if (!composite) {
        fprintf(stderr, "compute: out of memory for %u entries\n", limit);
        return 1;
    }
    uint64_t digest = 0;
    uint32_t primes = 0;
    for (uint32_t round = 0; round < rounds; ++round) {
        primes = count_primes(limit, composite);
        digest = mix(digest ^ primes ^ round);
    }
    printf("primes below %u: %u (digest %016llx)\n", limit, primes, (unsigned long long)digest);
    free(composite);
    return 0;
}
