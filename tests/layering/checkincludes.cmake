# cmake -DMANIFEST=<build>/tests/layering/layers.cmake -P checkincludes.cmake
# Fails naming every `#include "<layer>/…"` of a target whose layer that target does not link.
cmake_minimum_required(VERSION 3.21)
include(${MANIFEST})
set(failures "")
set(count 0)
foreach(target IN LISTS checked)
    foreach(path IN LISTS ${target}_files)
        math(EXPR count "${count} + 1")
        file(STRINGS ${path} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"[a-z0-9_]+/")
        foreach(line IN LISTS lines)
            string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([a-z0-9_]+)/.*$" "\\1" layer "${line}")
            if(layer IN_LIST layers AND NOT layer IN_LIST ${target}_allowed)
                string(APPEND failures
                    "  ${path}: ${line}\n    (${target} may include: ${${target}_allowed})\n")
            endif()
        endforeach()
    endforeach()
endforeach()
if(failures)
    message(FATAL_ERROR "Includes of layers the target does not link:\n${failures}"
        "Link the layer (if docs/architecture.md's rules allow it) or go through one that does.")
endif()
message(STATUS "${count} files of the listed targets include only the layers they link")
