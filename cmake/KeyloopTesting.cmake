# Test registration helpers. Every ctest test runs through tests/sandbox/sandbox-exec.sh, which
# gives it its own temporary HOME/XDG dirs and keychain service name (KEYLOOP_TEST_SERVICE).
#
#   keyloop_add_qt_test(NAME <name> SOURCES <files...>
#                       [MODULES <sdk modules...>]   # link these sdk object libraries (private API)
#                       [LINK <targets...>]          # or link e.g. Keyloop::Keyloop / Keyloop::Gui
#                       [SANDBOX]                    # needs the per-run sandbox: netns, D-Bus+keyring, Xvfb, devstack
#                       [SERIAL]                     # asserts on/changes the devstack's global admin state: RUN_SERIAL
#                       [TIMEOUT <seconds>] [LABELS <labels...>])
#   keyloop_add_sandboxed_test(NAME <name> COMMAND <cmd...> [SANDBOX] [TIMEOUT s] [LABELS ...])
#
# Tests without SANDBOX are "unit" tests (also run in the sanitizer tree); tests with SANDBOX
# get the label "integration" and require the fixture "keyloop_sandbox".

set(KEYLOOP_SANDBOX_DIR ${PROJECT_SOURCE_DIR}/tests/sandbox)
set(KEYLOOP_SANDBOX_STATE ${PROJECT_BINARY_DIR}/sandbox-state)

function(keyloop_add_sandboxed_test)
    cmake_parse_arguments(T "SANDBOX;SERIAL" "NAME;TIMEOUT" "COMMAND;LABELS" ${ARGN})
    if(T_SANDBOX)
        add_test(NAME ${T_NAME}
            COMMAND ${KEYLOOP_SANDBOX_DIR}/sandbox-exec.sh --state ${KEYLOOP_SANDBOX_STATE} --name ${T_NAME} -- ${T_COMMAND})
        set_tests_properties(${T_NAME} PROPERTIES FIXTURES_REQUIRED keyloop_sandbox LABELS "integration;${T_LABELS}")
    else()
        add_test(NAME ${T_NAME}
            COMMAND ${KEYLOOP_SANDBOX_DIR}/sandbox-exec.sh --isolated-only --name ${T_NAME} -- ${T_COMMAND})
        set_tests_properties(${T_NAME} PROPERTIES LABELS "unit;${T_LABELS}")
    endif()
    if(NOT T_TIMEOUT)
        set(T_TIMEOUT 120)
    endif()
    if(T_SERIAL)
        # Asserts on the devstack's global admin counters or changes the devstack: run alone.
        set_tests_properties(${T_NAME} PROPERTIES RUN_SERIAL TRUE)
    endif()
    set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT}
        ENVIRONMENT "KEYLOOP_SOURCE_DIR=${PROJECT_SOURCE_DIR};KEYLOOP_BINARY_DIR=${PROJECT_BINARY_DIR}")
endfunction()

function(keyloop_add_qt_test)
    cmake_parse_arguments(T "SANDBOX;SERIAL" "NAME;TIMEOUT" "SOURCES;MODULES;LINK;LABELS" ${ARGN})
    add_executable(${T_NAME} ${T_SOURCES})
    target_link_libraries(${T_NAME} PRIVATE Qt6::Test Qt6::Core Qt6::Network keyloop_testsupport)
    foreach(module IN LISTS T_MODULES)
        target_link_libraries(${T_NAME} PRIVATE keyloop_${module})
    endforeach()
    if(T_LINK)
        target_link_libraries(${T_NAME} PRIVATE ${T_LINK})
    endif()
    keyloop_target_warnings(${T_NAME})
    set(sandbox_flag "")
    if(T_SANDBOX)
        set(sandbox_flag SANDBOX)
    endif()
    if(T_SERIAL)
        list(APPEND sandbox_flag SERIAL)
    endif()
    keyloop_add_sandboxed_test(NAME ${T_NAME} COMMAND $<TARGET_FILE:${T_NAME}> ${sandbox_flag}
        TIMEOUT ${T_TIMEOUT} LABELS ${T_LABELS})
endfunction()
