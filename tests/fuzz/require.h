#pragma once

// The one way a fuzz target reports a broken invariant: a message naming it, then abort(), which
// libFuzzer records as a crash with the input that caused it.

#include <cstdio>
#include <cstdlib>

inline void require(bool condition, const char *what)
{
    if (!condition) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}
