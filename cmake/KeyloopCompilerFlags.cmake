# Warnings are errors in Keyloop's own code; sanitizers for the clang tree.
set(KEYLOOP_WARNING_FLAGS -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor -Wcast-align -Wformat=2)
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    # qCDebug(category) << … expands to a variadic macro with no arguments: fine in C++20, a
    # pedantic warning in clang's C++17 mode.
    set(KEYLOOP_WARNING_FLAGS -Wall -Wextra -Wpedantic -Wnon-virtual-dtor -Wformat=2 -Wno-gnu-zero-variadic-macro-arguments)
endif()
if(KEYLOOP_WERROR)
    list(APPEND KEYLOOP_WARNING_FLAGS -Werror)
endif()

if(KEYLOOP_SANITIZE)
    add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    add_link_options(-fsanitize=address,undefined)
endif()
if(KEYLOOP_BUILD_FUZZERS)
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
        message(FATAL_ERROR "KEYLOOP_BUILD_FUZZERS needs clang (libFuzzer)")
    endif()
    add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# keyloop_target_warnings(<target>) — apply our warning flags to our own targets only.
function(keyloop_target_warnings target)
    target_compile_options(${target} PRIVATE ${KEYLOOP_WARNING_FLAGS})
endfunction()
