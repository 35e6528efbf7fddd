# Run by cpack after it wrote the packages (CPACK_POST_BUILD_SCRIPTS; CPACK_PACKAGE_FILES lists them).
#
# CPackDeb adds postinst/postrm scripts that call ldconfig to every package holding a library in
# /usr/lib. Debian does that with the ldconfig trigger instead, which the library packages carry
# (packaging/debian/library.triggers); lintian reports the scripts (maintscript-calls-ldconfig).
# This drops exactly those generated scripts — a package with any other script is left alone —
# and rebuilds the package with dpkg-deb (root-owned, same compression, same file times).
foreach(deb IN LISTS CPACK_PACKAGE_FILES)
    if(NOT deb MATCHES "\\.deb$")
        continue()
    endif()
    get_filename_component(tmp "${deb}.unpacked" ABSOLUTE)
    file(REMOVE_RECURSE "${tmp}")
    execute_process(COMMAND dpkg-deb -R "${deb}" "${tmp}" COMMAND_ERROR_IS_FATAL ANY)
    set(changed FALSE)
    foreach(script postinst postrm)
        set(path "${tmp}/DEBIAN/${script}")
        if(EXISTS "${path}")
            file(READ "${path}" text)
            string(REGEX REPLACE "[ \t\n]+" " " flat "${text}")
            if(flat MATCHES "^#!/bin/sh set -e if \\[ \"\\$1\" = \"(configure|remove)\" \\]; then ldconfig fi ?$")
                file(REMOVE "${path}")
                set(changed TRUE)
            endif()
        endif()
    endforeach()
    if(changed)
        execute_process(COMMAND dpkg-deb --root-owner-group -Zgzip --build "${tmp}" "${deb}"
            OUTPUT_QUIET COMMAND_ERROR_IS_FATAL ANY)
    endif()
    file(REMOVE_RECURSE "${tmp}")
endforeach()
