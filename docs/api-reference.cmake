# SPDX-License-Identifier: MIT
#
# Builds Keyloop's API reference with doxygen from the public headers only: needs no compiled SDK.
#
#   cmake -DKEYLOOP_DOCS_DIR=<dir> -P docs/api-reference.cmake
#       writes <dir>/Doxyfile and the HTML into <dir>/html (./scripts/docs: build/docs)
#   cmake [-DKEYLOOP_EXPECT_VERSION=x.y.z] -P docs/api-reference.cmake
#       a check (the ctest api_reference): the same into a temporary dir, removed afterwards
#
# Fails on any doxygen warning (docs/Doxyfile.in: WARN_AS_ERROR): an undocumented public class,
# function, signal, enum or typedef, a broken \ref, \sa or link. Doxygen does not check the
# words after \a and \p, so this script does: each must name a parameter of the declaration the
# comment documents.
#
# The version is the one of project(Keyloop VERSION …) in the top-level CMakeLists.txt (read
# from there: one source). KEYLOOP_EXPECT_VERSION, the configured PROJECT_VERSION, makes the
# check fail if that reading ever breaks. DOXYGEN_EXECUTABLE may name the doxygen to run.
cmake_minimum_required(VERSION 3.21)

get_filename_component(KEYLOOP_SOURCE_DIR "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(public_header_globs "${KEYLOOP_SOURCE_DIR}/sdk/include/keyloop/*.h"
    "${KEYLOOP_SOURCE_DIR}/sdk/gui/include/keyloop/gui/*.h")

# keyloop_check_doc_params(<out-var> <header>...): every \a or \p word of a comment must be a
# parameter of what the comment documents: the next declaration, or the member group
# (///@{ … ///@}) that follows it. Class, struct, enum and namespace comments are not checked.
# _keyloop_take_lines(<index var> <text var> <regex>): appends lines[index], lines[index + 1], …
# to the text up to and including the first line matching the regex (or the end); advances index.
macro(_keyloop_take_lines index into until)
    while(${index} LESS count)
        list(GET lines ${${index}} line)
        string(APPEND ${into} " ${line}")
        math(EXPR ${index} "${${index}} + 1")
        if(line MATCHES "${until}")
            break()
        endif()
    endwhile()
endmacro()

function(keyloop_check_doc_params out)
    set(problems "")
    foreach(header IN LISTS ARGN)
        file(READ "${header}" text)
        # One list element per line; protect what CMake lists treat specially.
        string(REPLACE ";" "<semicolon>" text "${text}")
        string(REPLACE "[" "<lbracket>" text "${text}")
        string(REPLACE "]" "<rbracket>" text "${text}")
        string(REPLACE "\\" "<backslash>" text "${text}")
        string(REPLACE "\n" ";" lines "${text}")
        list(LENGTH lines count)
        set(i 0)
        while(i LESS count)
            list(GET lines ${i} line)
            string(STRIP "${line}" stripped)
            set(block "")
            set(start ${i})
            if(stripped MATCHES "^///" AND NOT stripped MATCHES "^///[@<]")
                while(i LESS count)
                    list(GET lines ${i} line)
                    string(STRIP "${line}" stripped)
                    if(NOT stripped MATCHES "^///" OR stripped MATCHES "^///[@<]")
                        break()
                    endif()
                    string(APPEND block " ${line}")
                    math(EXPR i "${i} + 1")
                endwhile()
            elseif(stripped MATCHES "^/\\*!")
                _keyloop_take_lines(i block "[*]/")
            else()
                math(EXPR i "${i} + 1")
                continue()
            endif()
            string(REGEX MATCHALL "<backslash>[ap][ \t]+[A-Za-z_][A-Za-z0-9_]*" refs "${block}")
            if(NOT refs OR i GREATER_EQUAL count)
                continue()
            endif()
            set(decl "")
            set(j ${i})
            list(GET lines ${j} line)
            string(STRIP "${line}" stripped)
            if(stripped STREQUAL "///@{")
                while(j LESS count)
                    list(GET lines ${j} line)
                    string(STRIP "${line}" stripped)
                    if(stripped STREQUAL "///@}")
                        break()
                    endif()
                    string(APPEND decl " ${line}")
                    math(EXPR j "${j} + 1")
                endwhile()
            else()
                _keyloop_take_lines(j decl "<semicolon>|{")
            endif()
            if(decl MATCHES "^[ \t]*(class|struct|enum|namespace)[ \t]")
                continue()
            endif()
            foreach(ref IN LISTS refs)
                string(REGEX REPLACE "^<backslash>[ap][ \t]+" "" name "${ref}")
                if(NOT decl MATCHES "[^A-Za-z0-9_]${name}[ \t]*(=[^,)]*)?[,)]")
                    math(EXPR lineno "${start} + 1")
                    string(APPEND problems "${header}:${lineno}: \\a ${name} names no parameter of "
                        "the declaration the comment documents\n")
                endif()
            endforeach()
        endwhile()
    endforeach()
    set(${out} "${problems}" PARENT_SCOPE)
endfunction()

# The one version source: project() in the top-level CMakeLists.txt.
file(READ "${KEYLOOP_SOURCE_DIR}/CMakeLists.txt" top_level)
if(NOT top_level MATCHES "project\\([ \t\r\n]*Keyloop[ \t\r\n]+VERSION[ \t\r\n]+(([0-9]+)\\.([0-9]+)\\.([0-9]+))")
    message(FATAL_ERROR "api-reference: no project(Keyloop VERSION x.y.z) in ${KEYLOOP_SOURCE_DIR}/CMakeLists.txt")
endif()
set(PROJECT_VERSION ${CMAKE_MATCH_1})
set(PROJECT_VERSION_MAJOR ${CMAKE_MATCH_2})
set(PROJECT_VERSION_MINOR ${CMAKE_MATCH_3})
set(PROJECT_VERSION_PATCH ${CMAKE_MATCH_4})
if(DEFINED KEYLOOP_EXPECT_VERSION AND NOT KEYLOOP_EXPECT_VERSION STREQUAL PROJECT_VERSION)
    message(FATAL_ERROR "api-reference: read version ${PROJECT_VERSION} from CMakeLists.txt, "
        "but the project is configured as ${KEYLOOP_EXPECT_VERSION}")
endif()

find_program(DOXYGEN_EXECUTABLE doxygen)
if(NOT DOXYGEN_EXECUTABLE)
    message(FATAL_ERROR "api-reference: doxygen not found. Install it with "
        "scripts/lib/install-deps.sh --test (or apt-get install --no-install-recommends doxygen), "
        "or run ./scripts/docs, which installs it.")
endif()

set(temporary OFF)
if(NOT KEYLOOP_DOCS_DIR)
    set(temporary ON)
    set(tmp /tmp)
    if(DEFINED ENV{TMPDIR} AND IS_DIRECTORY "$ENV{TMPDIR}")
        set(tmp "$ENV{TMPDIR}")
    endif()
    string(RANDOM LENGTH 10 suffix)
    set(KEYLOOP_DOCS_DIR "${tmp}/keyloop-api-reference-${suffix}")
endif()
get_filename_component(KEYLOOP_DOCS_DIR "${KEYLOOP_DOCS_DIR}" ABSOLUTE)
file(REMOVE_RECURSE "${KEYLOOP_DOCS_DIR}/html" "${KEYLOOP_DOCS_DIR}/warnings.log")
file(MAKE_DIRECTORY "${KEYLOOP_DOCS_DIR}")

# The guides in docs/, linked from the reference with \guide{file,text}: a path relative to the
# HTML, so that the links work in the checkout the reference was built from.
file(RELATIVE_PATH KEYLOOP_GUIDES_URL "${KEYLOOP_DOCS_DIR}/html" "${KEYLOOP_SOURCE_DIR}/docs")

# version.h is generated by CMake from sdk/version.h.in and installed: it is documented too.
configure_file("${KEYLOOP_SOURCE_DIR}/sdk/version.h.in" "${KEYLOOP_DOCS_DIR}/include/keyloop/version.h" @ONLY)
configure_file("${KEYLOOP_SOURCE_DIR}/docs/Doxyfile.in" "${KEYLOOP_DOCS_DIR}/Doxyfile" @ONLY)

execute_process(COMMAND "${DOXYGEN_EXECUTABLE}" "${KEYLOOP_DOCS_DIR}/Doxyfile"
    WORKING_DIRECTORY "${KEYLOOP_DOCS_DIR}"
    RESULT_VARIABLE result)
set(warnings "")
if(EXISTS "${KEYLOOP_DOCS_DIR}/warnings.log")
    file(READ "${KEYLOOP_DOCS_DIR}/warnings.log" warnings)
endif()
set(html_written OFF)
if(EXISTS "${KEYLOOP_DOCS_DIR}/html/index.html")
    set(html_written ON)
endif()

# Doxygen does not warn about an undocumented enum value: its XML output shows them.
set(enum_problems "")
file(GLOB xml_files "${KEYLOOP_DOCS_DIR}/xml/*.xml")
foreach(xml_file IN LISTS xml_files)
    file(READ "${xml_file}" xml)
    string(REGEX MATCHALL "<name>[A-Za-z0-9_]+</name>[ \t\r\n]*(<initializer>[^<]*</initializer>[ \t\r\n]*)?<briefdescription>[ \t\r\n]*</briefdescription>[ \t\r\n]*<detaileddescription>[ \t\r\n]*</detaileddescription>[ \t\r\n]*</enumvalue>"
        undocumented "${xml}")
    if(undocumented)
        string(REGEX MATCH "<compoundname>([^<]*)</compoundname>" compound "${xml}")
        set(compound "${CMAKE_MATCH_1}")
        foreach(match IN LISTS undocumented)
            string(REGEX MATCH "<name>([A-Za-z0-9_]+)</name>" name "${match}")
            string(APPEND enum_problems "${compound}: enum value ${CMAKE_MATCH_1} is not documented\n")
        endforeach()
    endif()
endforeach()
file(REMOVE_RECURSE "${KEYLOOP_DOCS_DIR}/xml")
if(temporary)
    file(REMOVE_RECURSE "${KEYLOOP_DOCS_DIR}")
endif()

file(GLOB headers ${public_header_globs})
keyloop_check_doc_params(param_problems ${headers})

set(failures "")
if(NOT warnings STREQUAL "")
    string(REGEX MATCHALL ": (warning|error): " found "${warnings}")
    list(LENGTH found count)
    message("${warnings}")
    list(APPEND failures "doxygen reported ${count} warning(s), above")
endif()
if(NOT enum_problems STREQUAL "")
    message("${enum_problems}")
    list(APPEND failures "undocumented enum values, above")
endif()
if(NOT param_problems STREQUAL "")
    message("${param_problems}")
    list(APPEND failures "\\a or \\p names that are no parameter, above")
endif()
if(NOT result EQUAL 0)
    list(APPEND failures "doxygen failed (exit status ${result})")
endif()
if(NOT html_written)
    list(APPEND failures "doxygen wrote no html/index.html")
endif()
if(failures)
    list(JOIN failures "; " failures)
    message(FATAL_ERROR "api-reference: ${failures}. Every public class, function, signal, enum "
        "(and value) and typedef in sdk/include/keyloop/*.h and sdk/gui/include/keyloop/gui/*.h "
        "needs a comment (docs/Doxyfile.in).")
endif()
